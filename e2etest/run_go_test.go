package e2etest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestRunGoOrders builds examples/go-orders (aws-lambda-go and
// aws-xray-sdk-go) as a provided.al2023 bootstrap and runs it under thaw
// run behind its traced REST API. The first call's trace has the stage,
// AWS::Lambda and the function with Initialization (covering the init
// code's 200 ms), and under Invocation the SDK's price_order subsegment
// with its annotation and the captured profile call.
func TestRunGoOrders(t *testing.T) {
	partner := startPartnerAPI(t)
	src := filepath.Join(moduleRoot(), "examples", "go-orders")
	dir := t.TempDir()
	tmpl, err := os.ReadFile(filepath.Join(src, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), tmpl, 0o644); err != nil {
		t.Fatal(err)
	}
	mustGoBuild(t, src, filepath.Join(dir, "bootstrap"))
	p := startRun(t, dir, nil, "--parameter-overrides", "ProfileUrl="+partner+"/profile InitSleepMs=200")
	api, cold := callOrdersTwice(t, p)
	docs := waitForTrace(t, api, cold, func(docs []doc) error {
		if len(findAll(docs, named("price_order"))) != 1 || len(findAll(docs, func(e doc) bool { return str(e, "namespace") == "remote" && !isTrue(e, "inferred") })) == 0 {
			return fmt.Errorf("the SDK's subsegments have not arrived yet")
		}
		return nil
	})
	for _, origin := range []string{"AWS::ApiGateway::Stage", "AWS::Lambda", "AWS::Lambda::Function"} {
		if _, err := findOne(docs, origin, func(e doc) bool { return str(e, "origin") == origin }); err != nil {
			t.Error(err)
		}
	}
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
	for _, c := range findAll(docs, func(e doc) bool { return str(e, "namespace") == "remote" && !isTrue(e, "inferred") }) {
		if !hasAncestor(c, inv.E) {
			t.Errorf("the profile call is not under Invocation:\n%s", outline(docs))
		}
	}
	init, err := findOne(docs, "Initialization", named("Initialization"))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := num(init.E, "start_time")
	e, _ := num(init.E, "end_time")
	if e-s < 0.2 || e-s > 5 {
		t.Errorf("Initialization lasts %.3f s; want the init code's 0.2 s and a little", e-s)
	}
}
