package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestSamplingCommand(server string) *samplingCommand {
	return &samplingCommand{
		getenv: fixedEnv(map[string]string{"THAW_SERVER": server}),
		hc:     &http.Client{Timeout: 10 * time.Second},
	}
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sampling", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A rule record as the server answers create, update and delete.
const samplingRecordAnswer = `{"SamplingRuleRecord":{"SamplingRule":{"RuleName":"orders","RuleARN":"arn:aws:xray:us-east-1:000000000000:sampling-rule/orders",
	"ResourceARN":"*","Priority":100,"FixedRate":0.1,"ReservoirSize":2,"ServiceName":"orders-api","ServiceType":"*",
	"Host":"*","HTTPMethod":"POST","URLPath":"/orders*","Version":1,"Attributes":{}},"CreatedAt":1699980000,"ModifiedAt":1699980300}}`

func TestSamplingListGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		stats      fakeAnswer
		golden     string
		wantStderr string
	}{
		{
			name:   "with statistics",
			stats:  fakeAnswer{body: readTestdata(t, "get-sampling-statistic-summaries.json")},
			golden: "list.golden",
		},
		{
			name: "statistics unavailable",
			stats: fakeAnswer{status: 400, errorType: "UnknownOperationException",
				body: `{"__type":"UnknownOperationException","message":"not supported"}`},
			golden:     "list-no-stats.golden",
			wantStderr: "thaw: no sampling statistics: get sampling statistic summaries: UnknownOperationException: not supported\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, srv := newFakeXRay(t, map[string][]fakeAnswer{
				"/GetSamplingRules":           {{body: readTestdata(t, "get-sampling-rules.json")}},
				"/SamplingStatisticSummaries": {tt.stats},
			})
			var stdout, stderr bytes.Buffer
			if err := newTestSamplingCommand(srv.URL).Run(t.Context(), []string{"list"}, &stdout, &stderr); err != nil {
				t.Fatalf("thaw sampling list: %v\nstderr: %s", err, stderr.String())
			}
			checkGoldenFile(t, filepath.Join("testdata", "sampling", tt.golden), stdout.String())
			if stderr.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantStderr)
			}
			if diff := cmp.Diff([]string{`{}`}, fake.got("/SamplingStatisticSummaries")); diff != "" {
				t.Errorf("statistics requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSamplingListStatsPages(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeXRay(t, map[string][]fakeAnswer{
		"/GetSamplingRules": {{body: `{"SamplingRuleRecords":[{"SamplingRule":{"RuleName":"Default","Priority":10000,"FixedRate":0.05,"ReservoirSize":1,
			"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","Version":1}}]}`}},
		"/SamplingStatisticSummaries": {
			{body: `{"SamplingStatisticSummaries":[{"RuleName":"Default","RequestCount":10,"SampledCount":1}],"NextToken":"p2"}`},
			{body: `{"SamplingStatisticSummaries":[{"RuleName":"Default","RequestCount":5,"SampledCount":2}]}`},
		},
	})
	var stdout bytes.Buffer
	if err := newTestSamplingCommand(srv.URL).Run(t.Context(), []string{"list"}, &stdout, io.Discard); err != nil {
		t.Fatalf("thaw sampling list: %v", err)
	}
	if diff := cmp.Diff([]string{`{}`, `{"NextToken":"p2"}`}, fake.got("/SamplingStatisticSummaries")); diff != "" {
		t.Errorf("statistics requests (-want +got):\n%s", diff)
	}
	want := "PRIORITY  NAME     SERVICE  TYPE  HOST  METHOD  PATH  RATE  RESERVOIR  REQUESTS  SAMPLED\n" +
		"10000     Default  *        *     *     *       *     5%    1/s        15        3\n"
	if diff := cmp.Diff(want, stdout.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func TestSamplingListEmptyAndJSON(t *testing.T) {
	t.Parallel()
	_, srv := newFakeXRay(t, map[string][]fakeAnswer{"/GetSamplingRules": {
		{body: `{"SamplingRuleRecords":[]}`},
		{body: `{"SamplingRuleRecords":[]}`},
	}})
	var stdout, stderr bytes.Buffer
	c := newTestSamplingCommand(srv.URL)
	if err := c.Run(t.Context(), []string{"list"}, &stdout, &stderr); err != nil {
		t.Fatalf("thaw sampling list: %v", err)
	}
	if stdout.Len() != 0 || stderr.String() != "no sampling rules on "+srv.URL+"\n" {
		t.Errorf("stdout %q, stderr %q; want nothing and a note", stdout.String(), stderr.String())
	}
	stdout.Reset()
	if err := c.Run(t.Context(), []string{"list", "--json"}, &stdout, io.Discard); err != nil {
		t.Fatalf("thaw sampling list --json: %v", err)
	}
	if want := "{\n  \"SamplingRuleRecords\": []\n}\n"; stdout.String() != want {
		t.Errorf("--json printed %q, want %q", stdout.String(), want)
	}
}

// The request bodies create, update and delete send.
func TestSamplingEditRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		path       string
		wantBody   string
		wantStdout string
	}{
		{
			name: "create with defaults",
			args: []string{"create", "orders", "--priority", "100", "--rate", "0.1", "--reservoir", "2"},
			path: "/CreateSamplingRule",
			wantBody: `{"SamplingRule":{"RuleName":"orders","RuleARN":"","ResourceARN":"*","Priority":100,"FixedRate":0.1,` +
				`"ReservoirSize":2,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","Version":1,"Attributes":null}}`,
			wantStdout: "PRIORITY  NAME    SERVICE     TYPE  HOST  METHOD  PATH      RATE  RESERVOIR\n" +
				"100       orders  orders-api  *     *     POST    /orders*  10%   2/s\n",
		},
		{
			name: "create with match flags after the name, rate as a percentage",
			args: []string{"create", "--priority", "100", "orders", "--rate", "10%", "--reservoir", "2",
				"--service", "orders-api", "--service-type", "AWS::Lambda::Function", "--host", "api.example.com",
				"--method", "POST", "--path", "/orders*"},
			path: "/CreateSamplingRule",
			wantBody: `{"SamplingRule":{"RuleName":"orders","RuleARN":"","ResourceARN":"*","Priority":100,"FixedRate":0.1,` +
				`"ReservoirSize":2,"ServiceName":"orders-api","ServiceType":"AWS::Lambda::Function","Host":"api.example.com",` +
				`"HTTPMethod":"POST","URLPath":"/orders*","Version":1,"Attributes":null}}`,
		},
		{
			name:     "update only the rate",
			args:     []string{"update", "orders", "--rate", "0.1"},
			path:     "/UpdateSamplingRule",
			wantBody: `{"SamplingRuleUpdate":{"RuleName":"orders","FixedRate":0.1}}`,
		},
		{
			name:     "update to a zero rate and reservoir",
			args:     []string{"update", "orders", "--rate", "0", "--reservoir", "0"},
			path:     "/UpdateSamplingRule",
			wantBody: `{"SamplingRuleUpdate":{"RuleName":"orders","FixedRate":0,"ReservoirSize":0}}`,
		},
		{
			name: "update priority and match fields",
			args: []string{"update", "orders", "--priority", "50", "--method", "POST", "--path", "/orders*", "--service", ""},
			path: "/UpdateSamplingRule",
			wantBody: `{"SamplingRuleUpdate":{"RuleName":"orders","Priority":50,"ServiceName":"",` +
				`"HTTPMethod":"POST","URLPath":"/orders*"}}`,
		},
		{
			name:       "delete",
			args:       []string{"delete", "orders"},
			path:       "/DeleteSamplingRule",
			wantBody:   `{"RuleName":"orders"}`,
			wantStdout: "deleted sampling rule \"orders\"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, srv := newFakeXRay(t, map[string][]fakeAnswer{tt.path: {{body: samplingRecordAnswer}}})
			var stdout, stderr bytes.Buffer
			if err := newTestSamplingCommand(srv.URL).Run(t.Context(), tt.args, &stdout, &stderr); err != nil {
				t.Fatalf("thaw sampling %q: %v\nstderr: %s", tt.args, err, stderr.String())
			}
			if diff := cmp.Diff([]string{tt.wantBody}, fake.got(tt.path)); diff != "" {
				t.Errorf("request bodies (-want +got):\n%s", diff)
			}
			if tt.wantStdout != "" {
				if diff := cmp.Diff(tt.wantStdout, stdout.String()); diff != "" {
					t.Errorf("stdout (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSamplingServerError(t *testing.T) {
	t.Parallel()
	_, srv := newFakeXRay(t, map[string][]fakeAnswer{"/CreateSamplingRule": {{
		status: 400, errorType: "InvalidRequestException",
		body: `{"__type":"InvalidRequestException","message":"Priority: must be between 1 and 9999"}`,
	}}})
	args := []string{"create", "orders", "--priority", "0", "--rate", "0.1", "--reservoir", "1"}
	err := newTestSamplingCommand(srv.URL).Run(t.Context(), args, io.Discard, io.Discard)
	want := "create sampling rule: InvalidRequestException: Priority: must be between 1 and 9999"
	if err == nil || err.Error() != want || isUsage(err) {
		t.Errorf("thaw sampling %q: error %v, want %q", args, err, want)
	}
}

func TestSamplingServerDown(t *testing.T) {
	t.Parallel()
	_, srv := newFakeXRay(t, nil)
	url := srv.URL
	srv.Close()
	err := newTestSamplingCommand(url).Run(t.Context(), []string{"delete", "orders"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "is 'thaw serve' running at "+url+"?") {
		t.Errorf("thaw sampling delete against a closed port: error %v, want a hint to start thaw serve", err)
	}
}

func TestSamplingUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in the message
	}{
		{nil, "sampling needs a subcommand: list, create, update or delete"},
		{[]string{"show"}, `unknown subcommand "show"`},
		{[]string{"list", "extra"}, `sampling list takes no arguments, got ["extra"]`},
		{[]string{"list", "--nope"}, "flag provided but not defined: -nope; see 'thaw sampling list -h'"},
		{[]string{"create", "--priority", "1", "--rate", "0.1", "--reservoir", "1"}, "sampling create needs a rule name"},
		{[]string{"create", "a", "b", "--priority", "1", "--rate", "0.1", "--reservoir", "1"}, `sampling create takes one rule name, got ["a" "b"]`},
		{[]string{"create", "orders", "--rate", "0.1"}, "sampling create needs --priority, --reservoir"},
		{[]string{"create", "orders", "--priority", "1", "--rate", "5", "--reservoir", "1"}, `--rate "5": want 0 to 1 (0% to 100%)`},
		{[]string{"create", "orders", "--priority", "1", "--rate", "lots", "--reservoir", "1"}, `--rate "lots": want a fraction such as 0.05`},
		{[]string{"create", "orders", "--priority", "high", "--rate", "0.1", "--reservoir", "1"}, `invalid value "high" for flag -priority`},
		{[]string{"update", "orders"}, "sampling update: nothing to change"},
		{[]string{"update", "--rate", "0.1"}, "sampling update needs a rule name"},
		{[]string{"update", "orders", "--rate", "-1%"}, `--rate "-1%": want 0 to 1`},
		{[]string{"delete"}, "sampling delete needs a rule name"},
		{[]string{"delete", "orders", "--server", "ftp://host"}, `--server "ftp://host": want a URL`},
	}
	for _, tt := range tests {
		// THAW_SERVER points nowhere: none of these may reach a server.
		err := newTestSamplingCommand("http://127.0.0.1:1").Run(t.Context(), tt.args, io.Discard, io.Discard)
		if err == nil || !isUsage(err) || !strings.HasPrefix(err.Error(), "usage: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("thaw sampling %q: error %v, want a usage error containing %q", tt.args, err, tt.want)
		}
		// serverURL's message shows a good URL instead of a hint.
		if err != nil && !strings.Contains(err.Error(), "see 'thaw sampling") && !strings.Contains(err.Error(), "--server") {
			t.Errorf("thaw sampling %q: error %v has no hint", tt.args, err)
		}
	}
}

func TestSamplingHelp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, "usage: thaw sampling <list|create|update|delete>"},
		{[]string{"list", "-h"}, "usage: " + samplingListSynopsis + "\n"},
		{[]string{"create", "-h"}, "usage: " + samplingCreateSynopsis + "\n"},
		{[]string{"update", "--help"}, "usage: " + samplingUpdateSynopsis + "\n"},
		{[]string{"delete", "-h"}, "usage: " + samplingDeleteSynopsis + "\n"},
	} {
		var stderr bytes.Buffer
		if err := newTestSamplingCommand("").Run(t.Context(), tt.args, io.Discard, &stderr); err != nil {
			t.Errorf("thaw sampling %q: %v", tt.args, err)
		}
		if !strings.HasPrefix(stderr.String(), tt.want) {
			t.Errorf("thaw sampling %q printed %q, want it to start with %q", tt.args, stderr.String(), tt.want)
		}
	}
}
