package runner

import (
	"maps"
	"testing"
)

func TestRouteMatch(t *testing.T) {
	for _, tc := range []struct {
		method, tmpl, reqMethod, path string
		ok                            bool
		params                        map[string]string
	}{
		{"POST", "/register", "POST", "/register", true, map[string]string{}},
		{"POST", "/register", "GET", "/register", false, nil},
		{"ANY", "/register", "DELETE", "/register/", true, map[string]string{}},
		{"GET", "/users/{id}", "GET", "/users/42", true, map[string]string{"id": "42"}},
		{"GET", "/users/{id}", "GET", "/users", false, nil},
		{"GET", "/users/{id}", "GET", "/users/42/orders", false, nil},
		{"ANY", "/{proxy+}", "GET", "/a/b/c", true, map[string]string{"proxy": "a/b/c"}},
		{"ANY", "/{proxy+}", "GET", "/", false, nil},
		{"GET", "/files/{path+}", "GET", "/files/x/y.txt", true, map[string]string{"path": "x/y.txt"}},
		{"GET", "/", "GET", "/", true, map[string]string{}},
	} {
		rt := &route{method: tc.method, path: tc.tmpl, parts: splitPath(tc.tmpl)}
		params, ok := rt.match(tc.reqMethod, tc.path)
		if ok != tc.ok || (ok && !maps.Equal(params, tc.params)) {
			t.Errorf("%s %s against %s %s = %v, %v; want %v, %v", tc.method, tc.tmpl, tc.reqMethod, tc.path, params, ok, tc.params, tc.ok)
		}
	}
}
