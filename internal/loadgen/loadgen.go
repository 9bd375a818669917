// Package loadgen generates realistic serverless X-Ray traces for benchmarks
// and load tests: an API Gateway stage calls a Lambda function (AWS::Lambda
// and AWS::Lambda::Function segments, a cold start now and then) whose
// handler writes to DynamoDB and calls a third-party HTTP API, streamed as
// independent subsegments the way the SDKs do inside Lambda.
//
// It imports only the standard library.
package loadgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Trace is one generated trace: its id and its documents, each a JSON text
// as a client would send it.
type Trace struct {
	ID   string
	Docs [][]byte
}

// Generator makes traces. It is not safe for concurrent use; give each
// goroutine its own.
type Generator struct {
	rng *rand.Rand
	// ColdStartRate is the share of invocations that are cold starts.
	ColdStartRate float64
	// ErrorRate is the share of third-party calls that fail with a 503.
	ErrorRate float64
	// ThrottleRate is the share of DynamoDB calls throttled (400
	// ProvisionedThroughputExceededException, error and throttle set).
	ThrottleRate float64
	// SlowRate is the share of third-party calls that take 1.5 to 3 s.
	SlowRate float64
}

// New returns a generator seeded with seed, so runs are reproducible.
func New(seed uint64) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ColdStartRate: 0.05, ErrorRate: 0.02}
}

func (g *Generator) id() string {
	return fmt.Sprintf("%016x", g.rng.Uint64())
}

func (g *Generator) traceID(start time.Time) string {
	return fmt.Sprintf("1-%08x-%08x%016x", uint32(start.Unix()), g.rng.Uint32(), g.rng.Uint64())
}

func ts(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMicro())/1e6, 'f', 6, 64)
}

// Trace generates one trace starting at start, with 6 documents (7 on a
// cold start) of about 600 bytes each.
func (g *Generator) Trace(start time.Time) Trace {
	tid := g.traceID(start)
	fn := fmt.Sprintf("register-%d", g.rng.IntN(4))
	arn := "arn:aws:lambda:us-east-1:123456789012:function:" + fn
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

	cold := g.rng.Float64() < g.ColdStartRate
	apiID, apiSub, lambdaID, fnID, invID := g.id(), g.id(), g.id(), g.id(), g.id()
	t0 := start
	lambdaStart := t0.Add(ms(1 + g.rng.Float64()))
	initDur := 0.0
	if cold {
		initDur = 300 + g.rng.Float64()*700
	}
	invStart := lambdaStart.Add(ms(0.5 + initDur))
	ddbStart := invStart.Add(ms(2 + g.rng.Float64()*3))
	ddbEnd := ddbStart.Add(ms(5 + g.rng.ExpFloat64()*8))
	httpStart := ddbEnd.Add(ms(0.5))
	httpEnd := httpStart.Add(ms(40 + g.rng.ExpFloat64()*60))
	// Rates of 0 draw nothing, so traces of a given seed stay the same.
	if g.SlowRate > 0 && g.rng.Float64() < g.SlowRate {
		httpEnd = httpStart.Add(ms(1500 + g.rng.Float64()*1500))
	}
	ddbResult := `"http":{"response":{"status":200,"content_length":2}}`
	if g.ThrottleRate > 0 && g.rng.Float64() < g.ThrottleRate {
		ddbResult = `"error":true,"throttle":true,"http":{"response":{"status":400,"content_length":112}},"cause":{"exceptions":[{"id":"` + g.id() +
			`","type":"ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded.","remote":true}]}`
	}
	invEnd := httpEnd.Add(ms(1 + g.rng.Float64()))
	fnEnd := invEnd.Add(ms(0.3))
	lambdaEnd := fnEnd.Add(ms(0.5))
	apiEnd := lambdaEnd.Add(ms(2))
	status := 200
	fault := ""
	if g.rng.Float64() < g.ErrorRate {
		status = 503
		fault = `,"fault":true,"cause":{"exceptions":[{"id":"` + g.id() + `","type":"HTTPError","message":"503 Service Unavailable","remote":true}]}`
	}
	reqID := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", g.rng.Uint32(), g.rng.Uint32()&0xffff, g.rng.Uint32()&0xffff, g.rng.Uint32()&0xffff, g.rng.Uint64()&0xffffffffffff)
	user := fmt.Sprintf("user-%d", g.rng.IntN(5000))

	var docs [][]byte
	// The SDK inside the function streams its subsegments first, children
	// before parents, parented to the Invocation subsegment.
	docs = append(docs, []byte(`{"id":"`+g.id()+`","name":"DynamoDB","start_time":`+ts(ddbStart)+`,"end_time":`+ts(ddbEnd)+
		`,"namespace":"aws","type":"subsegment","trace_id":"`+tid+`","parent_id":"`+invID+
		`",`+ddbResult+`,"aws":{"operation":"PutItem","region":"us-east-1","request_id":"`+reqID+
		`","retries":0,"table_name":"users","consumed_capacity":null},"metadata":{"default":{"attempt":1}}}`))
	docs = append(docs, []byte(`{"id":"`+g.id()+`","name":"api.partner.example","start_time":`+ts(httpStart)+`,"end_time":`+ts(httpEnd)+
		`,"namespace":"remote","type":"subsegment","trace_id":"`+tid+`","parent_id":"`+invID+
		`","http":{"request":{"method":"POST","url":"https://api.partner.example/v1/verify?user=`+user+`"},"response":{"status":`+strconv.Itoa(status)+`,"content_length":312}}`+fault+`}`))
	docs = append(docs, []byte(`{"id":"`+g.id()+`","name":"## register.handler","start_time":`+ts(invStart.Add(ms(0.2)))+`,"end_time":`+ts(invEnd.Add(-ms(0.2)))+
		`,"type":"subsegment","trace_id":"`+tid+`","parent_id":"`+invID+`","annotations":{"user_id":"`+user+`","ColdStart":`+strconv.FormatBool(cold)+
		`,"plan":"pro"},"metadata":{"default":{"request":{"email_domain":"example.com","source":"web"}}}}`))
	// The platform's segments.
	initSub := ""
	if cold {
		initSub = `{"id":"` + g.id() + `","name":"Initialization","start_time":` + ts(lambdaStart.Add(ms(0.2))) + `,"end_time":` + ts(invStart.Add(-ms(0.3))) + `,"aws":{"function_arn":"` + arn + `"}},`
	}
	docs = append(docs, []byte(`{"id":"`+fnID+`","name":"`+fn+`","start_time":`+ts(invStart.Add(-ms(0.1)))+`,"end_time":`+ts(fnEnd)+
		`,"trace_id":"`+tid+`","parent_id":"`+lambdaID+`","origin":"AWS::Lambda::Function","aws":{"account_id":"123456789012","function_arn":"`+arn+
		`","cloudwatch_logs":[{"log_group":"/aws/lambda/`+fn+`"}],"resource_names":["`+fn+`"]},"subsegments":[`+initSub+
		`{"id":"`+invID+`","name":"Invocation","start_time":`+ts(invStart)+`,"end_time":`+ts(invEnd)+`,"aws":{"function_arn":"`+arn+`"}},`+
		`{"id":"`+g.id()+`","name":"Overhead","start_time":`+ts(invEnd)+`,"end_time":`+ts(fnEnd)+`,"aws":{"function_arn":"`+arn+`"}}]}`))
	docs = append(docs, []byte(`{"id":"`+lambdaID+`","name":"`+fn+`","start_time":`+ts(lambdaStart)+`,"end_time":`+ts(lambdaEnd)+
		`,"trace_id":"`+tid+`","parent_id":"`+apiSub+`","origin":"AWS::Lambda","resource_arn":"`+arn+
		`","http":{"response":{"status":200}},"aws":{"request_id":"`+reqID+`"}}`))
	docs = append(docs, []byte(`{"id":"`+apiID+`","name":"users-api/prod","start_time":`+ts(t0)+`,"end_time":`+ts(apiEnd)+
		`,"trace_id":"`+tid+`","origin":"AWS::ApiGateway::Stage","resource_arn":"arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"`+
		`,"user":"`+user+`","http":{"request":{"method":"POST","url":"https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/register","user_agent":"Mozilla/5.0","client_ip":"203.0.113.7","x_forwarded_for":true},"response":{"status":200,"content_length":61}}`+
		`,"annotations":{"aws:api_id":"a1b2c3d4e5","aws:api_stage":"prod"},"aws":{"api_gateway":{"account_id":"123456789012","rest_api_id":"a1b2c3d4e5","stage":"prod","request_id":"`+reqID+`"}}`+
		`,"subsegments":[{"id":"`+apiSub+`","name":"Lambda","start_time":`+ts(lambdaStart.Add(-ms(0.3)))+`,"end_time":`+ts(lambdaEnd.Add(ms(0.3)))+
		`,"namespace":"aws","http":{"response":{"status":200}},"aws":{"function_name":"`+fn+`","region":"us-east-1","operation":"Invoke","resource_names":["`+fn+`"]}}]}`))
	return Trace{ID: tid, Docs: docs}
}

// Datagram frames a document as an X-Ray daemon UDP datagram.
func Datagram(doc []byte) []byte {
	const header = `{"format":"json","version":1}` + "\n"
	out := make([]byte, 0, len(header)+len(doc))
	return append(append(out, header...), doc...)
}
