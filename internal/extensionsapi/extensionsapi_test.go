package extensionsapi

// The whole protocol runs with a real extension process in
// e2etest/extensions_test.go; these cover the API's refusals.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func do(t *testing.T, s *Server, method, path, body string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Body)
	return w.Code, string(b), w.Header()
}

func TestRefusals(t *testing.T) {
	s := New(Function{Name: "orders", Version: "$LATEST", Handler: "app.handler"}, nil)
	const reg = "/2020-01-01/extension/register"
	code, _, h := do(t, s, "POST", reg, `{"events":["INVOKE"]}`, map[string]string{"Lambda-Extension-Name": "ext-a"})
	id := h.Get("Lambda-Extension-Identifier")
	if code != 200 || id == "" {
		t.Fatalf("register = %d, id %q", code, id)
	}
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
		errType                  string
	}{
		{"no name", "POST", reg, `{"events":[]}`, nil, 403, "Extension.InvalidExtensionName"},
		{"bad event", "POST", reg, `{"events":["LOGS"]}`, map[string]string{"Lambda-Extension-Name": "b"}, 403, "Extension.InvalidEventType"},
		{"configuration keys", "POST", reg, `{"events":[],"configurationKeys":["x"]}`, map[string]string{"Lambda-Extension-Name": "c"}, 403, "InvalidRequestFormat"},
		{"same name twice", "POST", reg, `{"events":[]}`, map[string]string{"Lambda-Extension-Name": "ext-a"}, 403, "Extension.InvalidExtensionState"},
		{"next without id", "GET", "/2020-01-01/extension/event/next", "", nil, 403, "Extension.MissingExtensionIdentifier"},
		{"next with an unknown id", "GET", "/2020-01-01/extension/event/next", "", map[string]string{"Lambda-Extension-Identifier": "nope"}, 403, "Extension.UnknownExtensionIdentifier"},
		{"error without type", "POST", "/2020-01-01/extension/exit/error", "", map[string]string{"Lambda-Extension-Identifier": id}, 403, "Extension.MissingHeader"},
		{"telemetry without types", "PUT", "/2022-07-01/telemetry", `{"types":[],"destination":{"protocol":"HTTP","URI":"http://sandbox:4243"}}`, map[string]string{"Lambda-Extension-Identifier": id}, 400, "ValidationError"},
		{"telemetry without a port", "PUT", "/2022-07-01/telemetry", `{"types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox/t"}}`, map[string]string{"Lambda-Extension-Identifier": id}, 400, "ValidationError"},
	} {
		code, body, _ := do(t, s, tc.method, tc.path, tc.body, tc.hdr)
		if code != tc.status || !strings.Contains(body, tc.errType) {
			t.Errorf("%s: %d %s; want %d %s", tc.name, code, body, tc.status, tc.errType)
		}
	}
	s.CloseRegistration()
	if code, body, _ := do(t, s, "POST", reg, `{"events":[]}`, map[string]string{"Lambda-Extension-Name": "late"}); code != 403 || !strings.Contains(body, "Extension.RegistrationClosed") {
		t.Errorf("register after init = %d %s; want RegistrationClosed", code, body)
	}
	if code, body, _ := do(t, s, "PUT", "/2022-07-01/telemetry", `{"types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox:4243/t"}}`,
		map[string]string{"Lambda-Extension-Identifier": id}); code != 403 || !strings.Contains(body, "Telemetry.SubscriptionClosed") {
		t.Errorf("subscribe after init = %d %s; want SubscriptionClosed", code, body)
	}
}
