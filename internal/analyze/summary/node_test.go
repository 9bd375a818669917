package summary

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/segment"
)

func TestInferredNode(t *testing.T) {
	node := func(typ, name, account string) ServiceID {
		return ServiceID{Name: name, Names: []string{name}, Type: typ, AccountID: account}
	}
	tests := []struct {
		sub    string
		want   ServiceID
		wantOK bool
	}{
		// DynamoDB: the table when the call names one (verified example).
		{`{"name":"DynamoDB","namespace":"aws","aws":{"operation":"UpdateItem","table_name":"scorekeep-user"}}`, node("AWS::DynamoDB::Table", "scorekeep-user", ""), true},
		{`{"name":"dynamodb","namespace":"aws","aws":{"operation":"PutItem","table_name":"orders","account_id":"111111111111"}}`, node("AWS::DynamoDB::Table", "orders", "111111111111"), true},
		{`{"name":"DynamoDb","namespace":"aws","aws":{"operation":"ListTables"}}`, node("AWS::DynamoDB", "DynamoDB", ""), true},
		{`{"name":"DynamoDBv2","namespace":"aws"}`, node("AWS::DynamoDB", "DynamoDB", ""), true},
		// SNS is one node whatever the topic (verified example).
		{`{"name":"SNS","namespace":"aws","aws":{"operation":"Publish","topic_arn":"arn:aws:sns:us-west-2:123456789012:t"}}`, node("AWS::SNS", "SNS", ""), true},
		{`{"name":"sns","namespace":"aws"}`, node("AWS::SNS", "SNS", ""), true},
		// SQS and S3: the queue and the bucket.
		{`{"name":"sqs","namespace":"aws","aws":{"queue_url":"https://sqs.us-east-1.amazonaws.com/123456789012/jobs"}}`, node("AWS::SQS::Queue", "jobs", ""), true},
		{`{"name":"SQS","namespace":"aws","aws":{"operation":"ListQueues"}}`, node("AWS::SQS", "SQS", ""), true},
		{`{"name":"s3","namespace":"aws","aws":{"bucket_name":"my-bucket","key":"a/b"}}`, node("AWS::S3::Bucket", "my-bucket", ""), true},
		{`{"name":"S3","namespace":"aws","aws":{"operation":"ListBuckets"}}`, node("AWS::S3", "S3", ""), true},
		// Lambda: the function, however Invoke was given it.
		{`{"name":"Lambda","namespace":"aws","aws":{"operation":"Invoke","function_name":"my-function"}}`, node("AWS::Lambda", "my-function", ""), true},
		{`{"name":"lambda","namespace":"aws","aws":{"operation":"Invoke","function_name":"arn:aws:lambda:us-east-1:123456789012:function:my-function:prod"}}`, node("AWS::Lambda", "my-function", ""), true},
		{`{"name":"Lambda","namespace":"aws","aws":{"operation":"Invoke","function_name":"123456789012:function:my-function"}}`, node("AWS::Lambda", "my-function", ""), true},
		{`{"name":"Lambda","namespace":"aws","aws":{"operation":"Invoke","function_name":"my-function:3"}}`, node("AWS::Lambda", "my-function", ""), true},
		{`{"name":"Lambda","namespace":"aws","aws":{"operation":"GetFunction"}}`, node("AWS::Lambda", "Lambda", ""), true},
		// Other services: AWS::<canonical name>.
		{`{"name":"states","namespace":"aws"}`, node("AWS::Sfn", "Sfn", ""), true},
		{`{"name":"Sfn","namespace":"aws"}`, node("AWS::Sfn", "Sfn", ""), true},
		{`{"name":"logs","namespace":"aws"}`, node("AWS::CloudWatchLogs", "CloudWatchLogs", ""), true},
		{`{"name":"ssm","namespace":"aws"}`, node("AWS::SimpleSystemsManagement", "SimpleSystemsManagement", ""), true},
		{`{"name":"events","namespace":"aws"}`, node("AWS::Events", "Events", ""), true},
		{`{"name":"Bedrock Runtime","namespace":"aws"}`, node("AWS::Bedrock Runtime", "Bedrock Runtime", ""), true},
		{`{"name":"STS","namespace":"AWS"}`, node("AWS::STS", "STS", ""), true},
		// remote: SQL databases, and everything else of unknown type.
		{`{"name":"ebdb@db.example.com","namespace":"remote","sql":{"url":"jdbc:postgresql://db.example.com:5432/ebdb","database_type":"PostgreSQL"}}`, node("Database::SQL", "ebdb@db.example.com", ""), true},
		{`{"name":"api.example.com","namespace":"remote","http":{"request":{"url":"https://api.example.com/"}}}`, node("remote", "api.example.com", ""), true},
		{`{"name":"api.example.com","namespace":"remote","sql":{}}`, node("remote", "api.example.com", ""), true},
		// Not calls.
		{`{"name":"compute","namespace":"local"}`, ServiceID{}, false},
		{`{"name":"Initialization"}`, ServiceID{}, false},
		{`{"name":"x","namespace":"invalidNs"}`, ServiceID{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.sub, func(t *testing.T) {
			var e segment.Entity
			if err := json.Unmarshal([]byte(tt.sub), &e); err != nil {
				t.Fatal(err)
			}
			got, ok := InferredNode(&e)
			if ok != tt.wantOK {
				t.Fatalf("InferredNode(%s) ok = %v, want %v", tt.sub, ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("InferredNode(%s) (-want +got):\n%s", tt.sub, diff)
			}
		})
	}
}

func TestNodeOf(t *testing.T) {
	tests := []struct {
		seg  string
		want ServiceID
	}{
		{`{"name":"Scorekeep","origin":"AWS::ElasticBeanstalk::Environment"}`, ServiceID{Name: "Scorekeep", Names: []string{"Scorekeep"}, Type: "AWS::ElasticBeanstalk::Environment"}},
		{`{"name":"fn","origin":"AWS::Lambda::Function","aws":{"account_id":"123456789012"}}`, ServiceID{Name: "fn", Names: []string{"fn"}, Type: "AWS::Lambda::Function", AccountID: "123456789012"}},
		// The API Gateway account is not the node's: only aws.account_id is.
		{`{"name":"api/Prod","origin":"AWS::ApiGateway::Stage","aws":{"api_gateway":{"account_id":"123456789012"}}}`, ServiceID{Name: "api/Prod", Names: []string{"api/Prod"}, Type: "AWS::ApiGateway::Stage"}},
		{`{"name":"DDB"}`, ServiceID{Name: "DDB", Names: []string{"DDB"}}},
	}
	for _, tt := range tests {
		var e segment.Entity
		if err := json.Unmarshal([]byte(tt.seg), &e); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, NodeOf(&e)); diff != "" {
			t.Errorf("NodeOf(%s) (-want +got):\n%s", tt.seg, diff)
		}
	}
}

func TestServiceName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"dynamodb", "DynamoDB"},
		{"DynamoDB", "DynamoDB"},
		{"DynamoDb", "DynamoDB"},
		{"s3", "S3"},
		{"sqs", "SQS"},
		{"sns", "SNS"},
		{"lambda", "Lambda"},
		{"events", "Events"},
		{"states", "Sfn"},
		{"StepFunctions", "Sfn"},
		{"logs", "CloudWatchLogs"},
		{"CloudWatchLogs", "CloudWatchLogs"},
		{"ssm", "SimpleSystemsManagement"},
		{"sts", "STS"},
		{"kinesis", "Kinesis"},
		{"secretsmanager", "SecretsManager"},
		{"kms", "KMS"},
		{"Athena", "Athena"},
	}
	for _, tt := range tests {
		if got := ServiceName(tt.in); got != tt.want {
			t.Errorf("ServiceName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	names := ServiceNames()
	names["dynamodb"] = "changed"
	if got := ServiceName("dynamodb"); got != "DynamoDB" {
		t.Errorf("changing the map ServiceNames returned changed ServiceName: %q", got)
	}
}
