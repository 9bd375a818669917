package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// route is one HTTP event of a function.
type route struct {
	fn     *Function
	api    string // "rest" (payload v1) or "http" (payload v2)
	method string // or ANY
	path   string // template, e.g. /users/{id} or /{proxy+}
	parts  []string
}

// match reports whether the request path fits the route, with its path
// parameters.
func (rt *route) match(method, path string) (map[string]string, bool) {
	if rt.method != "ANY" && rt.method != method {
		return nil, false
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	for i, p := range rt.parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") { // greedy: the rest
			if i >= len(segs) || segs[i] == "" {
				return nil, false
			}
			params[p[1:len(p)-2]] = strings.Join(segs[i:], "/")
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, false
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	root := len(rt.parts) == 0 && len(segs) == 1 && segs[0] == "" // "/" against "/"
	if len(segs) != len(rt.parts) && !root {
		return nil, false
	}
	return params, true
}

// specificity orders routes: literal segments before parameters before
// greedy ones, then longer first, then a method before ANY.
func (rt *route) specificity() (int, int, int) {
	lit, greedy := 0, 0
	for _, p := range rt.parts {
		switch {
		case strings.HasSuffix(p, "+}"):
			greedy++
		case !strings.HasPrefix(p, "{"):
			lit++
		}
	}
	anyMethod := 0
	if rt.method == "ANY" {
		anyMethod = 1
	}
	return greedy, -lit, anyMethod
}

// Front is the API Gateway in front of a project's functions: REST API
// routes get proxy events of payload version 1, HTTP API routes version
// 2, as API Gateway sends them (spec/lambda.md, API Gateway section of
// the AWS docs).
type Front struct {
	r      *Runner
	routes []*route
	api    string // the REST API's name, for its X-Ray stage segment
	stage  string
}

// NewFront builds the HTTP front of r's functions; apiName and stage name
// the REST API's stage segment (apiName/stage).
func NewFront(r *Runner, apiName, stage string) *Front {
	f := &Front{r: r, api: apiName, stage: stage}
	for _, fn := range r.Functions() {
		for _, ev := range fn.Events {
			f.routes = append(f.routes, &route{fn: fn, api: ev.API, method: ev.Method, path: ev.Path, parts: splitPath(ev.Path)})
		}
	}
	sort.SliceStable(f.routes, func(i, j int) bool {
		a1, a2, a3 := f.routes[i].specificity()
		b1, b2, b3 := f.routes[j].specificity()
		if a1 != b1 {
			return a1 < b1
		}
		if a2 != b2 {
			return a2 < b2
		}
		return a3 < b3
	})
	return f
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Routes lists the routes, as METHOD path → function (api).
func (f *Front) Routes() []string {
	var out []string
	for _, rt := range f.routes {
		kind := "REST API, payload 1.0"
		if rt.api == "http" {
			kind = "HTTP API, payload 2.0"
		}
		out = append(out, fmt.Sprintf("%-6s %s → %s (%s)", rt.method, rt.path, rt.fn.Name, kind))
	}
	return out
}

// maxBody is API Gateway's payload limit.
const maxBody = 10 << 20

func (f *Front) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	received := time.Now()
	var rt *route
	var params map[string]string
	for _, c := range f.routes {
		if p, ok := c.match(req.Method, req.URL.Path); ok {
			rt, params = c, p
			break
		}
	}
	if rt == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "Request Too Long"})
		return
	}
	requestID := newRequestID()
	var event []byte
	if rt.api == "http" {
		event, err = eventV2(req, rt, params, body, requestID, received)
	} else {
		event, err = eventV1(req, rt, params, body, requestID, received, f.stage)
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "Internal server error"})
		return
	}
	// A traced REST API stage records its own segment and calls Lambda
	// from a subsegment, whose id is the function's Parent.
	traced := rt.api == "rest" && rt.fn.APITracing
	var stage traceIDs
	header := req.Header.Get("X-Amzn-Trace-Id")
	if traced {
		stage = planTrace(header, true, received)
		h := stage.header
		h.Parent, h.Sampled = stage.invoke, "1"
		header = h.String()
	}
	resp, err := f.r.Invoke(context.WithoutCancel(req.Context()), Request{Function: rt.fn.Name, Payload: event, TraceHeader: header})
	status := f.respond(w, rt, resp, err)
	if traced {
		f.sendStage(stage, req, rt, received, time.Now(), status, requestID)
	}
}

// respond writes the function's answer as API Gateway would, and returns
// the status.
func (f *Front) respond(w http.ResponseWriter, rt *route, resp Response, err error) int {
	if errors.Is(err, ErrThrottled) {
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "Too Many Requests"})
		return http.StatusTooManyRequests
	}
	res := resp.Outcome.Result
	if err != nil || res.Error != nil {
		if rt.api == "http" {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "Internal Server Error"})
			return http.StatusInternalServerError
		}
		writeJSON(w, http.StatusBadGateway, map[string]string{"message": "Internal server error"})
		return http.StatusBadGateway
	}
	var out struct {
		StatusCode        *int                `json:"statusCode"`
		Headers           map[string]any      `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Body              *string             `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
		Cookies           []string            `json:"cookies"`
	}
	if json.Unmarshal(res.Payload, &out) != nil || out.StatusCode == nil {
		if rt.api == "rest" { // a REST proxy integration needs the response shape
			writeJSON(w, http.StatusBadGateway, map[string]string{"message": "Internal server error"})
			return http.StatusBadGateway
		}
		// HTTP API payload 2.0: any other JSON is the body of a 200.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(res.Payload)
		return http.StatusOK
	}
	h := w.Header()
	for k, v := range out.Headers {
		h.Set(k, fmt.Sprint(v))
	}
	for k, vs := range out.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range out.Cookies {
		h.Add("Set-Cookie", c)
	}
	var body []byte
	if out.Body != nil {
		body = []byte(*out.Body)
		if out.IsBase64Encoded {
			if b, err := base64.StdEncoding.DecodeString(*out.Body); err == nil {
				body = b
			}
		}
	}
	if h.Get("Content-Type") == "" && rt.api == "http" {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(*out.StatusCode)
	_, _ = w.Write(body)
	return *out.StatusCode
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// headerMaps gives API Gateway's single- and multi-value header maps.
func headerMaps(h http.Header, lower bool) (map[string]string, map[string][]string) {
	single, multi := map[string]string{}, map[string][]string{}
	for k, vs := range h {
		if lower {
			k = strings.ToLower(k)
		}
		single[k] = vs[len(vs)-1]
		multi[k] = vs
	}
	return single, multi
}

func bodyField(body []byte) (any, bool) {
	if len(body) == 0 {
		return nil, false
	}
	if utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

func sourceIP(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}

// eventV1 is a REST API proxy event (payload version 1.0).
func eventV1(req *http.Request, rt *route, params map[string]string, body []byte, id string, at time.Time, stage string) ([]byte, error) {
	headers, multi := headerMaps(req.Header, false)
	headers["Host"], multi["Host"] = req.Host, []string{req.Host}
	var query map[string]string
	var multiQuery map[string][]string
	if q := req.URL.Query(); len(q) > 0 {
		query, multiQuery = map[string]string{}, map[string][]string{}
		for k, vs := range q {
			query[k], multiQuery[k] = vs[len(vs)-1], vs
		}
	}
	var pathParams map[string]string
	if len(params) > 0 {
		pathParams = params
	}
	b, enc := bodyField(body)
	return json.Marshal(map[string]any{
		"resource": rt.path, "path": req.URL.Path, "httpMethod": req.Method,
		"headers": headers, "multiValueHeaders": multi,
		"queryStringParameters": query, "multiValueQueryStringParameters": multiQuery,
		"pathParameters": pathParams, "stageVariables": nil,
		"requestContext": map[string]any{
			"resourcePath": rt.path, "httpMethod": req.Method, "path": "/" + stage + req.URL.Path,
			"accountId": accountID, "apiId": "thawlocal1", "stage": stage, "requestId": id,
			"requestTimeEpoch": at.UnixMilli(), "protocol": req.Proto,
			"identity": map[string]any{"sourceIp": sourceIP(req), "userAgent": req.UserAgent()},
		},
		"body": b, "isBase64Encoded": enc,
	})
}

// eventV2 is an HTTP API event (payload version 2.0).
func eventV2(req *http.Request, rt *route, params map[string]string, body []byte, id string, at time.Time) ([]byte, error) {
	headers := map[string]string{}
	for k, vs := range req.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	headers["host"] = req.Host
	var cookies []string
	for _, c := range req.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	var query map[string]string
	if q := req.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	routeKey := rt.method + " " + rt.path
	if rt.method == "ANY" && rt.path == "/{proxy+}" {
		routeKey = "$default"
	}
	ev := map[string]any{
		"version": "2.0", "routeKey": routeKey, "rawPath": req.URL.Path, "rawQueryString": req.URL.RawQuery,
		"headers": headers, "queryStringParameters": query,
		"requestContext": map[string]any{
			"accountId": accountID, "apiId": "thawlocal2", "domainName": req.Host, "domainPrefix": strings.Split(req.Host, ".")[0],
			"http":      map[string]any{"method": req.Method, "path": req.URL.Path, "protocol": req.Proto, "sourceIp": sourceIP(req), "userAgent": req.UserAgent()},
			"requestId": id, "routeKey": routeKey, "stage": "$default",
			"time": at.UTC().Format("02/Jan/2006:15:04:05 -0700"), "timeEpoch": at.UnixMilli(),
		},
		"isBase64Encoded": false,
	}
	if len(params) > 0 {
		ev["pathParameters"] = params
	}
	if len(cookies) > 0 {
		ev["cookies"] = cookies
	}
	if b, enc := bodyField(body); b != nil {
		ev["body"], ev["isBase64Encoded"] = b, enc
	}
	return json.Marshal(ev)
}

// sendStage sends the REST API stage's segment: the request, and the
// subsegment that called Lambda (its id is the function's Parent).
func (f *Front) sendStage(t traceIDs, req *http.Request, rt *route, start, end time.Time, status int, requestID string) {
	if f.r.cfg.Collector == "" {
		return
	}
	seg := map[string]any{
		"id": t.lambda, "name": f.api + "/" + f.stage, "trace_id": string(t.header.Root),
		"start_time": epoch(start), "end_time": epoch(end), "origin": "AWS::ApiGateway::Stage",
		"resource_arn": fmt.Sprintf("arn:aws:apigateway:%s::/restapis/thawlocal1/stages/%s", "us-east-1", f.stage),
		"http": map[string]any{
			"request":  map[string]any{"method": req.Method, "url": "http://" + req.Host + req.URL.RequestURI(), "user_agent": req.UserAgent(), "client_ip": sourceIP(req)},
			"response": map[string]any{"status": status},
		},
		"annotations": map[string]any{"aws:api_id": "thawlocal1", "aws:api_stage": f.stage},
		"aws":         map[string]any{"api_gateway": map[string]any{"account_id": accountID, "rest_api_id": "thawlocal1", "stage": f.stage, "request_id": requestID}},
		"subsegments": []any{map[string]any{
			"id": t.invoke, "name": "Lambda", "namespace": "aws", "start_time": epoch(start.Add(100 * time.Microsecond)), "end_time": epoch(end.Add(-100 * time.Microsecond)),
			"http": map[string]any{"response": map[string]any{"status": 200}},
			"aws":  map[string]any{"function_name": rt.fn.Name, "region": "us-east-1", "operation": "Invoke", "resource_names": []string{rt.fn.Name}},
		}},
	}
	if t.header.Parent != "" {
		seg["parent_id"] = t.header.Parent
	}
	switch {
	case status >= 500:
		seg["fault"] = true
	case status == 429:
		seg["throttle"], seg["error"] = true, true
	case status >= 400:
		seg["error"] = true
	}
	b, err := json.Marshal(seg)
	if err == nil {
		err = sendSegments(f.r.cfg.Collector, [][]byte{b})
	}
	if err != nil {
		f.r.log.Warn("send API Gateway segment", "err", err)
	}
}
