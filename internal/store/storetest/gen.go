package storetest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/thawtrace/thaw/internal/segment"
)

// functions are the Lambda functions generated traces call, each behind its
// own API route and with its own DynamoDB table.
var functions = []struct{ name, route, method, table, op string }{
	{"orders-create", "/orders", "POST", "orders", "PutItem"},
	{"orders-get", "/orders/{id}", "GET", "orders", "GetItem"},
	{"payments-charge", "/payments", "POST", "payments", "UpdateItem"},
	{"users-profile", "/users/{id}", "GET", "users", "Query"},
}

// GenTraceID returns a random trace id whose epoch is t's second.
func GenTraceID(rng *rand.Rand, t time.Time) segment.TraceID {
	return segment.TraceID(fmt.Sprintf("1-%08x-%08x%016x", uint32(t.Unix()), rng.Uint32(), rng.Uint64()))
}

// GenTrace returns the documents of one realistic trace that starts at start,
// as the X-Ray service receives them for an API Gateway → Lambda → DynamoDB
// request: the API Gateway stage segment with its Lambda call, the AWS::Lambda
// service segment, the AWS::Lambda::Function segment (Initialization on a cold
// start, Invocation, Overhead), and the handler's DynamoDB call as an
// independent subsegment under Invocation, as the X-Ray SDK sends it from
// inside Lambda. The trace id's epoch is start's second. Documents are 350 to
// 1,300 bytes, about 700 on average.
//
// rng picks the ids, the function, the durations, cold starts (one in five)
// and failures (one in twenty calls is throttled by DynamoDB, which faults
// the function and makes API Gateway answer 502). Equal seeds give equal
// documents.
func GenTrace(rng *rand.Rand, start time.Time) []segment.Document {
	return GenTraceWithID(rng, GenTraceID(rng, start), start)
}

// GenTraceWithID is GenTrace with a given trace id, whose epoch need not be
// start's (an id minted by a client before the request, or one derived from
// a W3C trace id).
func GenTraceWithID(rng *rand.Rand, tid segment.TraceID, start time.Time) []segment.Document {
	fn := functions[rng.IntN(len(functions))]
	cold := rng.IntN(5) == 0
	throttled := rng.IntN(20) == 0
	id := func() string { return fmt.Sprintf("%016x", rng.Uint64()) }
	uuid := func() string {
		a, b := rng.Uint64(), rng.Uint64()
		return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
	}
	ms := func(lo, hi int) float64 { return float64(lo+rng.IntN(hi-lo+1)) / 1000 }

	// The timeline, in seconds after start; each caller wraps its callee.
	t0 := float64(start.UnixMicro()) / 1e6
	at := func(off float64) string { return strconv.FormatFloat(t0+off, 'f', 6, 64) }
	initDur := 0.0
	if cold {
		initDur = ms(150, 900)
	}
	ddbStart := 0.030 + initDur + ms(1, 15)
	ddbEnd := ddbStart + ms(4, 60)
	invEnd := ddbEnd + ms(1, 20)
	fnEnd := invEnd + 0.002
	lambdaEnd := fnEnd + 0.002
	callEnd := lambdaEnd + ms(1, 5)
	total := callEnd + ms(1, 5)

	apiID := fmt.Sprintf("%010x", rng.Uint64()&0xffffffffff)
	fnARN := "arn:aws:lambda:us-east-1:123456789012:function:" + fn.name
	path := strings.Replace(fn.route, "{id}", strconv.Itoa(rng.IntN(100000)), 1)
	status, fnFault, ddb := 200, "", `"http":{"response":{"status":200,"content_length":`+strconv.Itoa(2+rng.IntN(400))+`}}`
	if throttled {
		status, fnFault = 502, `"fault":true,`
		ddb = `"error":true,"throttle":true,"http":{"response":{"status":400,"content_length":112}},` +
			`"cause":{"working_directory":"/var/task","exceptions":[{"id":"` + id() + `","type":"ProvisionedThroughputExceededException","message":"Rate of requests exceeds the allowed throughput.","remote":true}]}`
	}
	apigwID, callID, lambdaID, fnID, invID := id(), id(), id(), id(), id()

	bodies := []string{
		`{"id":"` + apigwID + `","name":"shop-api/prod","trace_id":"` + string(tid) + `",` +
			`"start_time":` + at(0) + `,"end_time":` + at(total) + `,"origin":"AWS::ApiGateway::Stage",` +
			`"resource_arn":"arn:aws:apigateway:us-east-1::/restapis/` + apiID + `/stages/prod",` +
			`"http":{"request":{"url":"https://` + apiID + `.execute-api.us-east-1.amazonaws.com/prod` + path + `","method":"` + fn.method + `",` +
			`"user_agent":"Mozilla/5.0 (X11; Linux x86_64)","client_ip":"203.0.113.` + strconv.Itoa(1+rng.IntN(254)) + `","x_forwarded_for":true},` +
			`"response":{"status":` + strconv.Itoa(status) + `,"content_length":` + strconv.Itoa(20+rng.IntN(900)) + `}},` +
			`"aws":{"api_gateway":{"account_id":"123456789012","rest_api_id":"` + apiID + `","stage":"prod","request_id":"` + uuid() + `"}},` +
			`"annotations":{"aws:api_id":"` + apiID + `","aws:api_stage":"prod"},` +
			`"subsegments":[{"id":"` + callID + `","name":"Lambda","namespace":"aws","start_time":` + at(0.004) + `,"end_time":` + at(callEnd) + `,` +
			`"http":{"request":{"url":"https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/` + fnARN + `/invocations","method":"POST"},"response":{"status":200}},` +
			`"aws":{"function_name":"` + fn.name + `","region":"us-east-1","operation":"Invoke","resource_names":["` + fn.name + `"]}}]}`,

		`{"id":"` + lambdaID + `","name":"` + fn.name + `","trace_id":"` + string(tid) + `","parent_id":"` + callID + `",` +
			`"start_time":` + at(0.008) + `,"end_time":` + at(lambdaEnd) + `,"origin":"AWS::Lambda","resource_arn":"` + fnARN + `",` +
			`"http":{"response":{"status":200}},"aws":{"request_id":"` + uuid() + `"}}`,

		`{"id":"` + fnID + `","name":"` + fn.name + `","trace_id":"` + string(tid) + `","parent_id":"` + lambdaID + `",` +
			`"start_time":` + at(0.025+initDur) + `,"end_time":` + at(fnEnd) + `,` + fnFault + `"origin":"AWS::Lambda::Function",` +
			`"aws":{"account_id":"123456789012","function_arn":"` + fnARN + `","resource_names":["` + fn.name + `"]},` +
			`"subsegments":[` + initSub(cold, id(), at(0.010), at(0.010+initDur)) +
			`{"id":"` + invID + `","name":"Invocation","start_time":` + at(0.026+initDur) + `,"end_time":` + at(invEnd) + `,` + fnFault + `"aws":{"function_arn":"` + fnARN + `"}},` +
			`{"id":"` + id() + `","name":"Overhead","start_time":` + at(invEnd) + `,"end_time":` + at(fnEnd-0.0005) + `,"aws":{"function_arn":"` + fnARN + `"}}]}`,

		`{"type":"subsegment","id":"` + id() + `","name":"DynamoDB","namespace":"aws","trace_id":"` + string(tid) + `","parent_id":"` + invID + `",` +
			`"start_time":` + at(ddbStart) + `,"end_time":` + at(ddbEnd) + `,` + ddb + `,` +
			`"aws":{"operation":"` + fn.op + `","region":"us-east-1","request_id":"` + strings.ToUpper(fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())) + `",` +
			`"table_name":"` + fn.table + `","resource_names":["` + fn.table + `"],"retries":0}}`,
	}
	docs := make([]segment.Document, 0, len(bodies))
	for _, body := range bodies {
		ds, errs := segment.Decode([]byte(body), 0)
		if len(errs) > 0 || len(ds) != 1 {
			panic(fmt.Sprintf("storetest: generated document does not decode: %v\n%s", errs, body))
		}
		docs = append(docs, ds[0])
	}
	return docs
}

func initSub(cold bool, id, start, end string) string {
	if !cold {
		return ""
	}
	return `{"id":"` + id + `","name":"Initialization","start_time":` + start + `,"end_time":` + end + `},`
}
