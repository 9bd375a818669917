package summary

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/thawtrace/thaw/internal/segment"
)

// Node types thaw assigns to inferred nodes that are not AWS services
// (spec/xray.md §6.2).
const (
	TypeRemote      = "remote"
	TypeSQLDatabase = "Database::SQL"
)

// NodeOf returns the instrumented node a segment belongs to: its identity is
// (name, origin, aws.account_id), and its Type is the origin, empty when the
// segment has none (spec/xray.md §6.2).
func NodeOf(seg *segment.Entity) ServiceID {
	id := ServiceID{Name: seg.Name, Names: []string{seg.Name}, Type: seg.Origin}
	if seg.AWS != nil {
		id.AccountID = seg.AWS.AccountID
	}
	return id
}

// InferredNode returns the node an aws or remote subsegment calls, named and
// typed per the table of spec/xray.md §6.2, and false for any other
// subsegment. It looks at the subsegment alone: the caller decides whether a
// node is inferred at all, which requires the subsegment to be the outermost
// call of its segment and to have no downstream segment.
func InferredNode(sub *segment.Entity) (ServiceID, bool) {
	var id ServiceID
	switch {
	case strings.EqualFold(sub.Namespace, "aws"):
		id = awsNode(sub)
	case strings.EqualFold(sub.Namespace, "remote"):
		id = ServiceID{Name: sub.Name, Type: TypeRemote}
		if len(sub.SQL) > 0 {
			id.Type = TypeSQLDatabase
		}
	default:
		return ServiceID{}, false
	}
	id.Names = []string{id.Name}
	if sub.AWS != nil {
		id.AccountID = sub.AWS.AccountID
	}
	return id, true
}

// awsNode names the node of an AWS SDK call. Resource-level nodes (a table, a
// queue, a bucket, a function) need the resource in the call's aws object;
// without it the node is the service itself.
func awsNode(sub *segment.Entity) ServiceID {
	service := ServiceName(sub.Name)
	id := ServiceID{Name: service, Type: "AWS::" + service}
	call := sub.AWS
	if call == nil {
		call = &segment.AWS{}
	}
	switch service {
	case "DynamoDB":
		if call.TableName != "" {
			id = ServiceID{Name: call.TableName, Type: "AWS::DynamoDB::Table"}
		}
	case "SQS":
		if q := queueName(call.QueueURL); q != "" {
			id = ServiceID{Name: q, Type: "AWS::SQS::Queue"}
		}
	case "S3":
		if call.BucketName != "" {
			id = ServiceID{Name: call.BucketName, Type: "AWS::S3::Bucket"}
		}
	case "Lambda":
		if fn := functionName(call.FunctionName); fn != "" {
			id.Name = fn
		}
	}
	return id
}

// queueName is the last path element of an SQS queue URL.
func queueName(queueURL string) string {
	u := strings.TrimRight(queueURL, "/")
	return u[strings.LastIndexByte(u, '/')+1:]
}

// functionName reduces what Lambda's Invoke accepts as FunctionName (a name,
// name:qualifier, a partial ARN or a full ARN) to the bare function name, so
// that every spelling of one function is one node.
func functionName(s string) string {
	if _, after, ok := strings.Cut(s, ":function:"); ok {
		s = after
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

// serviceNames maps the lower-cased names SDKs give AWS subsegments (botocore
// endpoint prefixes, Java and .NET service names) to the canonical service
// names X-Ray uses in node names and types. It is never modified.
var serviceNames = map[string]string{
	"cloudwatchlogs":          "CloudWatchLogs",
	"dynamodb":                "DynamoDB",
	"dynamodbv2":              "DynamoDB",
	"eventbridge":             "Events",
	"events":                  "Events",
	"kinesis":                 "Kinesis",
	"kms":                     "KMS",
	"lambda":                  "Lambda",
	"logs":                    "CloudWatchLogs",
	"s3":                      "S3",
	"secretsmanager":          "SecretsManager",
	"sfn":                     "Sfn",
	"simplesystemsmanagement": "SimpleSystemsManagement",
	"sns":                     "SNS",
	"sqs":                     "SQS",
	"ssm":                     "SimpleSystemsManagement",
	"states":                  "Sfn",
	"stepfunctions":           "Sfn",
	"sts":                     "STS",
}

// ServiceNames returns a copy of the table ServiceName applies: lower-cased
// subsegment name to canonical AWS service name.
func ServiceNames() map[string]string { return maps.Clone(serviceNames) }

// ServiceName returns the canonical name of the AWS service an aws
// subsegment called, comparing its name case-insensitively with the table of
// ServiceNames; names not in the table are returned unchanged.
func ServiceName(subsegmentName string) string {
	if c, ok := serviceNames[strings.ToLower(strings.TrimSpace(subsegmentName))]; ok {
		return c
	}
	return subsegmentName
}

// nodeKey is a node's identity; Names is derived from Name.
type nodeKey struct{ name, typ, account string }

func keyOf(id ServiceID) nodeKey { return nodeKey{id.Name, id.Type, id.AccountID} }

// nodeSet collects distinct nodes.
type nodeSet map[nodeKey]ServiceID

func (s nodeSet) add(id ServiceID) { s[keyOf(id)] = id }

// sorted returns the nodes ordered by name, type and account, each with its
// own Names slice so callers may not alias one another.
func (s nodeSet) sorted() []ServiceID {
	if len(s) == 0 {
		return nil
	}
	out := make([]ServiceID, 0, len(s))
	for _, id := range s {
		id.Names = slices.Clone(id.Names)
		out = append(out, id)
	}
	slices.SortFunc(out, compareNodes)
	return out
}

func compareNodes(a, b ServiceID) int {
	return cmp.Or(
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(a.AccountID, b.AccountID),
	)
}
