package e2etest

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestRunNodeOrders runs examples/node-orders under thaw run: a Node.js
// function with the real aws-xray-sdk-core, behind an HTTP API (no stage
// segment: Lambda starts the trace). The trace has the function segment
// with Initialization, and under Invocation the SDK's price_order
// subsegment (with its annotation) and its captured HTTP call; its
// Initialization covers the module's 150 ms of init code.
func TestRunNodeOrders(t *testing.T) {
	requireNode(t)
	partner := startPartnerAPI(t)
	p := startRun(t, filepath.Join(moduleRoot(), "examples", "node-orders"), nil,
		"--parameter-overrides", "ProfileUrl="+partner+"/profile NodePath="+nodeModules()+" InitSleepMs=150")
	api, cold := callOrdersTwice(t, p)
	docs := waitForTrace(t, api, cold, func(docs []doc) error {
		if len(findAll(docs, named("price_order"))) != 1 {
			return fmt.Errorf("no price_order subsegment yet")
		}
		return nil
	})
	inv, err := findOne(docs, "Invocation", named("Invocation"))
	if err != nil {
		t.Fatal(err)
	}
	price, err := findOne(docs, "price_order", named("price_order"))
	if err != nil {
		t.Fatal(err)
	}
	if !hasAncestor(price, inv.E) || field(price.E, "annotations", "items") != 3.0 {
		t.Errorf("price_order is not under Invocation or lacks its annotation:\n%s", outline(docs))
	}
	calls := findAll(docs, func(e doc) bool { return str(e, "namespace") == "remote" && !isTrue(e, "inferred") })
	if len(calls) != 1 || !hasAncestor(calls[0], inv.E) {
		t.Errorf("want the profile call as one remote subsegment under Invocation:\n%s", outline(docs))
	}
	inits := findAll(docs, named("Initialization"))
	if len(inits) != 1 {
		t.Fatalf("the first call's trace has no Initialization:\n%s", outline(docs))
	}
	s, _ := num(inits[0].E, "start_time")
	e, _ := num(inits[0].E, "end_time")
	if e-s < 0.15 || e-s > 5 {
		t.Errorf("Initialization lasts %.3f s; want the init code's 0.15 s and a little", e-s)
	}
}
