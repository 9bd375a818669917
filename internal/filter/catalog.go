package filter

// Context is a set of evaluation contexts (spec §5.1, §5.4); a keyword is
// valid where its Context mask includes the current one.
type Context uint8

// Evaluation contexts.
const (
	TraceCtx       Context = 1 << iota // top level
	ServiceCtx                         // service(...) { ... }
	EdgeCtx                            // edge(...) { ... }
	RCServiceCtx                       // rootcause.*.service { ... }
	RCEntityCtx                        // rootcause.fault|error.entity { ... }
	RTEntityCtx                        // rootcause.responsetime.entity { ... } (adds coverage)
	RCExceptionCtx                     // rootcause.*.exception { ... }
)

var contextNames = map[Context]string{
	TraceCtx:       "trace",
	ServiceCtx:     "service",
	EdgeCtx:        "edge",
	RCServiceCtx:   "rootcause service",
	RCEntityCtx:    "rootcause entity",
	RTEntityCtx:    "rootcause entity",
	RCExceptionCtx: "rootcause exception",
}

// ValueType is the type of a catalog keyword.
type ValueType int

// Keyword value types.
const (
	BoolType ValueType = iota + 1
	NumberType
	StringType
)

// String returns the type name used in error messages.
func (t ValueType) String() string {
	switch t {
	case BoolType:
		return "boolean"
	case NumberType:
		return "number"
	case StringType:
		return "string"
	}
	return "unknown"
}

// KeywordInfo describes one simple keyword of the catalog (spec §5.4).
type KeywordInfo struct {
	Type     ValueType
	Contexts Context
}

const (
	tse   = TraceCtx | ServiceCtx | EdgeCtx
	rcAll = RCServiceCtx | RCEntityCtx | RTEntityCtx | RCExceptionCtx
	rcEnt = RCEntityCtx | RTEntityCtx
)

// Keywords is the catalog of simple keywords by canonical (lower-case) name.
var Keywords = map[string]KeywordInfo{
	"ok":       {BoolType, tse},
	"error":    {BoolType, tse},
	"throttle": {BoolType, tse},
	"fault":    {BoolType, tse},
	"partial":  {BoolType, TraceCtx | ServiceCtx},
	"inferred": {BoolType, TraceCtx | RCServiceCtx},
	"root":     {BoolType, ServiceCtx},
	"first":    {BoolType, rcAll},
	"last":     {BoolType, rcAll},
	"remote":   {BoolType, rcEnt},

	"responsetime": {NumberType, tse},
	"duration":     {NumberType, TraceCtx | ServiceCtx},
	"http.status":  {NumberType, tse},
	"index":        {NumberType, rcAll},
	"coverage":     {NumberType, RTEntityCtx},

	"http.url":         {StringType, tse},
	"http.method":      {StringType, tse},
	"http.useragent":   {StringType, TraceCtx | ServiceCtx},
	"http.clientip":    {StringType, TraceCtx | ServiceCtx},
	"user":             {StringType, TraceCtx},
	"name":             {StringType, TraceCtx | rcAll},
	"type":             {StringType, TraceCtx | RCServiceCtx},
	"message":          {StringType, TraceCtx | RCExceptionCtx},
	"availabilityzone": {StringType, TraceCtx},
	"instance.id":      {StringType, TraceCtx},
	"resource.arn":     {StringType, TraceCtx},
	"account.id":       {StringType, TraceCtx | RCServiceCtx},
}

// validOp reports whether op may compare a value of type t.
func validOp(t ValueType, op Kind) bool {
	switch op {
	case EQL, NEQ:
		return true
	case LSS, LEQ, GTR, GEQ:
		return t == NumberType
	case CONTAINS, BEGINSWITH, ENDSWITH:
		return t == StringType
	}
	return false
}

func opsFor(t ValueType) string {
	switch t {
	case NumberType:
		return "=, !=, <, <=, >, >="
	case StringType:
		return "=, !=, CONTAINS, BEGINSWITH, ENDSWITH"
	}
	return "=, !="
}
