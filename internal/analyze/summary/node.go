package summary

import (
	"cmp"
	"maps"
	"strings"
	"unicode/utf8"

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
func NodeOf(seg *segment.Entity) ServiceID { return segmentNode(seg).serviceID() }

func segmentNode(seg *segment.Entity) nodeKey {
	k := nodeKey{name: seg.Name, typ: seg.Origin}
	if seg.AWS != nil {
		k.account = seg.AWS.AccountID
	}
	return k
}

// InferredNode returns the node an aws or remote subsegment calls, named and
// typed per the table of spec/xray.md §6.2, and false for any other
// subsegment. It looks at the subsegment alone: the caller decides whether a
// node is inferred at all, which requires the subsegment to be the outermost
// call of its segment and to have no downstream segment.
func InferredNode(sub *segment.Entity) (ServiceID, bool) {
	k, ok := inferredNode(sub)
	if !ok {
		return ServiceID{}, false
	}
	return k.serviceID(), true
}

func inferredNode(sub *segment.Entity) (nodeKey, bool) {
	var k nodeKey
	switch {
	case strings.EqualFold(sub.Namespace, "aws"):
		k = awsNode(sub)
	case strings.EqualFold(sub.Namespace, "remote"):
		k = nodeKey{name: sub.Name, typ: TypeRemote}
		if len(sub.SQL) > 0 {
			k.typ = TypeSQLDatabase
		}
	default:
		return nodeKey{}, false
	}
	if sub.AWS != nil {
		k.account = sub.AWS.AccountID
	}
	return k, true
}

// awsNode names the node of an AWS SDK call. Resource-level nodes (a table, a
// queue, a bucket, a function) need the resource in the call's aws object;
// without it the node is the service itself.
func awsNode(sub *segment.Entity) nodeKey {
	service, ok := lookupService(sub.Name)
	if !ok {
		service = awsService{name: sub.Name, typ: "AWS::" + sub.Name}
	}
	call := sub.AWS
	if call == nil {
		call = &segment.AWS{}
	}
	switch service.name {
	case "DynamoDB":
		if call.TableName != "" {
			return nodeKey{name: call.TableName, typ: "AWS::DynamoDB::Table"}
		}
	case "SQS":
		if q := queueName(call.QueueURL); q != "" {
			return nodeKey{name: q, typ: "AWS::SQS::Queue"}
		}
	case "S3":
		if call.BucketName != "" {
			return nodeKey{name: call.BucketName, typ: "AWS::S3::Bucket"}
		}
	case "Lambda":
		if fn := functionName(call.FunctionName); fn != "" {
			return nodeKey{name: fn, typ: service.typ}
		}
	}
	return nodeKey{name: service.name, typ: service.typ}
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

// awsService is an AWS service as nodes name it.
type awsService struct{ name, typ string }

// awsServices is serviceNames with each service's node type. It is never
// modified.
var awsServices = func() map[string]awsService {
	m := make(map[string]awsService, len(serviceNames))
	for k, name := range serviceNames {
		m[k] = awsService{name: name, typ: "AWS::" + name}
	}
	return m
}()

// ServiceName returns the canonical name of the AWS service an aws
// subsegment called, comparing its name case-insensitively with the table of
// ServiceNames; names not in the table are returned unchanged.
func ServiceName(subsegmentName string) string {
	if s, ok := lookupService(subsegmentName); ok {
		return s.name
	}
	return subsegmentName
}

// lookupService returns the service an aws subsegment of that name called,
// per the table of ServiceNames.
func lookupService(subsegmentName string) (awsService, bool) {
	key := strings.TrimSpace(subsegmentName)
	// Lower-case ASCII names (all of them, in practice) in a buffer on
	// the stack: strings.ToLower would allocate for "DynamoDB".
	var buf [32]byte
	if lower, ok := lowerASCII(buf[:0], key); ok {
		s, ok := awsServices[string(lower)]
		return s, ok
	}
	s, ok := awsServices[strings.ToLower(key)]
	return s, ok
}

// lowerASCII appends s lower-cased to dst, and reports false, leaving the
// work to strings.ToLower, if s is not ASCII or does not fit in dst.
func lowerASCII(dst []byte, s string) ([]byte, bool) {
	if len(s) > cap(dst) {
		return nil, false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			return nil, false
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst, true
}

// nodeKey is a node's identity; a ServiceID's Names is derived from Name.
type nodeKey struct{ name, typ, account string }

// serviceID returns the node's ServiceID, with a Names slice of its own.
func (k nodeKey) serviceID() ServiceID {
	return ServiceID{Name: k.name, Names: []string{k.name}, AccountID: k.account, Type: k.typ}
}

// compareNodes orders nodes by name, type and account.
func compareNodes(a, b nodeKey) int {
	return cmp.Or(
		cmp.Compare(a.name, b.name),
		cmp.Compare(a.typ, b.typ),
		cmp.Compare(a.account, b.account),
	)
}
