package segment

import "strconv"

// decoder decodes segment documents into [Entity] straight from the scanner,
// without reflection. It fills the model exactly as encoding/json would, with
// three deliberate differences:
//
//   - keys match exactly; encoding/json also takes "ID" or "Name" for "id" or
//     "name";
//   - every mistyped member is looked at, so a tolerated mistake (say
//     "status": "200") cannot hide a later fatal one (say "parent_id": 5);
//   - a mistyped "type" rejects the document instead of making it a segment.
//
// Everything else follows encoding/json down to its corners, so that a
// document decodes to the model it always did (the differential tests in
// decode_diff_test.go hold the two to that): null leaves a string, number or
// boolean as it is and clears a pointer, map or slice; a repeated key decodes
// into what the earlier one left (objects merge, array elements are decoded
// over the old ones); a value of the wrong type is skipped, yet a pointer to
// a struct is allocated for it all the same.
//
// The strings of the fields of structs decoded in place (entities and the
// objects they point to) share one allocation per document: fieldInto
// gathers their contents in text and refs, and flushStrings makes one
// string of them and gives each field its slice, when the document is done.
// A field kept alone keeps the document's other field strings alive, 512
// bytes at most. Strings in values that are copied while decoding
// (array elements, causes) and map keys and values are allocated each.
type decoder struct {
	scanner
	// fatal is the first member whose type rejects the document; its code
	// is empty if there is none.
	fatal typeError

	text  [512]byte // contents of the strings waiting in refs
	ntext int
	refs  [32]textRef
	nrefs int
}

// textRef is a field waiting for its string: text[off:end].
type textRef struct {
	dst      *string
	off, end int
}

// typeError is a member whose JSON type does not fit the model, found where
// such a mistake rejects the document: the identifying fields of the
// document's own entity (see fatalIf), or the document itself when it is
// not an object.
type typeError struct {
	code  ErrorCode
	field string
	got   string // the JSON type found, as encoding/json names it
	want  string // the Go type of the field
}

// fatalIf returns the code a mistyped identifying field rejects the document
// with: code for the document's own entity, none for embedded subsegments,
// whose mistakes validation reports (a mistyped id is then a missing id).
func fatalIf(top bool, code ErrorCode) ErrorCode {
	if top {
		return code
	}
	return ""
}

// recordTypeError notes a mistyped member that rejects the document with
// code, unless code is empty or an earlier member already did.
func (d *decoder) recordTypeError(code ErrorCode, field, got, want string) {
	if code != "" && d.fatal.code == "" {
		d.fatal = typeError{code: code, field: field, got: got, want: want}
	}
}

// mistyped skips a value whose type does not fit the field it is for.
func (d *decoder) mistyped(code ErrorCode, field, want string) {
	got := d.kind()
	d.skip()
	d.recordTypeError(code, field, got, want)
}

// document decodes the value at d.pos, which should be a segment object,
// into e.
func (d *decoder) document(e *Entity) {
	switch d.ws() {
	case '{':
		d.entity(e, true)
	case 'n':
		d.literal("null") // decodes to nothing, as with encoding/json
	default:
		d.mistyped(CodeInvalidJSON, "", "segment.Entity")
	}
	d.flushStrings()
}

// entity decodes an object into e. top is set for the document's own
// entity, where a mistyped identifying field rejects the document.
func (d *decoder) entity(e *Entity, top bool) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		switch string(k) {
		case "id":
			d.fieldInto(&e.ID, fatalIf(top, CodeInvalidID), "id")
		case "name":
			d.fieldInto(&e.Name, fatalIf(top, CodeInvalidName), "name")
		case "trace_id":
			d.fieldInto(&e.TraceID, fatalIf(top, CodeInvalidTraceID), "trace_id")
		case "parent_id":
			d.fieldInto(&e.ParentID, fatalIf(top, CodeInvalidID), "parent_id")
		case "type":
			d.fieldInto(&e.Type, fatalIf(top, CodeInvalidSegment), "type")
		case "start_time":
			d.floatInto(&e.StartTime, fatalIf(top, CodeMissingStartTime), "start_time")
		case "end_time":
			d.floatInto(&e.EndTime, fatalIf(top, CodeMissingEndTime), "end_time")
		case "in_progress":
			d.boolInto(&e.InProgress)
		case "namespace":
			d.fieldInto(&e.Namespace, "", "")
		case "origin":
			d.fieldInto(&e.Origin, "", "")
		case "user":
			d.fieldInto(&e.User, "", "")
		case "resource_arn":
			d.fieldInto(&e.ResourceARN, "", "")
		case "error":
			d.boolInto(&e.Error)
		case "fault":
			d.boolInto(&e.Fault)
		case "throttle":
			d.boolInto(&e.Throttle)
		case "inferred":
			d.boolInto(&e.Inferred)
		case "traced":
			d.boolInto(&e.Traced)
		case "http":
			if object(d, &e.HTTP) {
				d.http(e.HTTP)
			}
		case "aws":
			if object(d, &e.AWS) {
				d.aws(e.AWS)
			}
		case "service":
			if object(d, &e.Service) {
				d.service(e.Service)
			}
		case "cause":
			d.cause(&e.Cause)
		case "sql":
			d.mapInto(&e.SQL)
		case "annotations":
			d.mapInto(&e.Annotations)
		case "metadata":
			d.mapInto(&e.Metadata)
		case "links":
			array(d, &e.Links, "", "", "", d.link)
		case "precursor_ids":
			array(d, &e.PrecursorIDs, "", "", "", d.strElem)
		case "subsegments":
			code := fatalIf(top, CodeInvalidSegment)
			array(d, &e.Subsegments, code, "subsegments", "[]*segment.Entity", func(s *Entity) *Entity {
				return d.subsegment(s, code)
			})
		default:
			d.skip()
		}
	}
}

// subsegment decodes one element of subsegments over s and returns it.
func (d *decoder) subsegment(s *Entity, code ErrorCode) *Entity {
	switch d.ws() {
	case '{':
		if s == nil {
			s = new(Entity)
		}
		d.entity(s, false)
		return s
	case 'n':
		d.literal("null")
		return nil
	}
	if s == nil {
		s = new(Entity)
	}
	d.mistyped(code, "subsegments", "segment.Entity")
	return s
}

func (d *decoder) http(h *HTTP) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		switch string(k) {
		case "request":
			if object(d, &h.Request) {
				d.httpRequest(h.Request)
			}
		case "response":
			if object(d, &h.Response) {
				d.httpResponse(h.Response)
			}
		default:
			d.skip()
		}
	}
}

func (d *decoder) httpRequest(r *HTTPRequest) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		switch string(k) {
		case "method":
			d.fieldInto(&r.Method, "", "")
		case "url":
			d.fieldInto(&r.URL, "", "")
		case "user_agent":
			d.fieldInto(&r.UserAgent, "", "")
		case "client_ip":
			d.fieldInto(&r.ClientIP, "", "")
		case "x_forwarded_for":
			d.boolInto(&r.XForwardedFor)
		case "traced":
			d.boolInto(&r.Traced)
		default:
			d.skip()
		}
	}
}

func (d *decoder) httpResponse(r *HTTPResponse) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		switch string(k) {
		case "status":
			d.intInto(&r.Status)
		case "content_length":
			d.flexIntInto(&r.ContentLength)
		default:
			d.skip()
		}
	}
}

func (d *decoder) aws(a *AWS) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		switch string(k) {
		case "account_id":
			d.fieldInto(&a.AccountID, "", "")
		case "operation":
			d.fieldInto(&a.Operation, "", "")
		case "region":
			d.fieldInto(&a.Region, "", "")
		case "request_id":
			d.fieldInto(&a.RequestID, "", "")
		case "table_name":
			d.fieldInto(&a.TableName, "", "")
		case "queue_url":
			d.fieldInto(&a.QueueURL, "", "")
		case "bucket_name":
			d.fieldInto(&a.BucketName, "", "")
		case "topic_arn":
			d.fieldInto(&a.TopicARN, "", "")
		case "function_name":
			d.fieldInto(&a.FunctionName, "", "")
		case "function_arn":
			d.fieldInto(&a.FunctionARN, "", "")
		case "resource_names":
			array(d, &a.ResourceNames, "", "", "", d.strElem)
		case "ec2":
			if object(d, &a.EC2) {
				d.ec2(a.EC2)
			}
		case "ecs":
			if object(d, &a.ECS) {
				d.ecs(a.ECS)
			}
		case "xray":
			if object(d, &a.XRay) {
				d.xray(a.XRay)
			}
		case "retries":
			d.flexIntInto(&a.Retries)
		default:
			d.skip()
		}
	}
}

func (d *decoder) ec2(x *EC2) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		switch string(k) {
		case "instance_id":
			d.fieldInto(&x.InstanceID, "", "")
		case "availability_zone":
			d.fieldInto(&x.AvailabilityZone, "", "")
		default:
			d.skip()
		}
	}
}

func (d *decoder) ecs(x *ECS) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		switch string(k) {
		case "container":
			d.fieldInto(&x.Container, "", "")
		case "availability_zone":
			d.fieldInto(&x.AvailabilityZone, "", "")
		default:
			d.skip()
		}
	}
}

func (d *decoder) xray(x *XRay) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		switch string(k) {
		case "sdk":
			d.fieldInto(&x.SDK, "", "")
		case "sdk_version":
			d.fieldInto(&x.SDKVersion, "", "")
		case "sampling_rule_name":
			d.fieldInto(&x.SamplingRuleName, "", "")
		default:
			d.skip()
		}
	}
}

func (d *decoder) service(s *Service) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		switch string(k) {
		case "version":
			d.fieldInto(&s.Version, "", "")
		default:
			d.skip()
		}
	}
}

// link decodes one element of links over l and returns it.
func (d *decoder) link(l Link) Link {
	if d.ws() != '{' {
		d.skip() // null, or a tolerated type error: l stays as it is
		return l
	}
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return l
		}
		switch string(k) {
		case "trace_id":
			d.strInto(&l.TraceID, "", "")
		case "id":
			d.strInto(&l.ID, "", "")
		case "attributes":
			d.mapInto(&l.Attributes)
		default:
			d.skip()
		}
	}
}

// cause decodes a cause as [Cause.UnmarshalJSON] does, after encoding/json
// has allocated *dst for any value but null: an object replaces the cause,
// an exception-id string sets ExceptionID, null removes the cause, and any
// other value is ignored. Decode later drops causes that carry nothing.
func (d *decoder) cause(dst **Cause) {
	switch d.ws() {
	case 'n':
		d.literal("null")
		*dst = nil
		return
	case '{':
		c := new(Cause)
		d.causeObject(c)
		if *dst == nil {
			*dst = c
		} else {
			**dst = *c
		}
		return
	case '"':
		id := string(d.str())
		if *dst == nil {
			*dst = new(Cause)
		}
		(*dst).ExceptionID = id
		return
	}
	d.skip()
	if *dst == nil {
		*dst = new(Cause)
	}
}

// causeObject decodes the object form of a cause. Mistyped members are
// tolerated, as Cause.UnmarshalJSON tolerates them.
func (d *decoder) causeObject(c *Cause) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		switch string(k) {
		case "working_directory":
			d.strInto(&c.WorkingDirectory, "", "")
		case "paths":
			array(d, &c.Paths, "", "", "", d.strElem)
		case "exceptions":
			array(d, &c.Exceptions, "", "", "", d.exception)
		default:
			d.skip()
		}
	}
}

// exception decodes one element of cause.exceptions over x and returns it.
func (d *decoder) exception(x Exception) Exception {
	if d.ws() != '{' {
		d.skip() // null, or a tolerated type error: x stays as it is
		return x
	}
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return x
		}
		switch string(k) {
		case "id":
			d.strInto(&x.ID, "", "")
		case "type":
			d.strInto(&x.Type, "", "")
		case "message":
			d.strInto(&x.Message, "", "")
		case "remote":
			d.boolInto(&x.Remote)
		case "cause":
			d.strInto(&x.Cause, "", "")
		default:
			d.skip()
		}
	}
}

// object readies *dst for the value at d.pos as encoding/json does for a
// pointer to a struct, and reports whether the value is an object to decode
// into **dst. null sets *dst to nil. Any other type is a tolerated mistake,
// but *dst is allocated all the same.
func object[T any](d *decoder, dst **T) bool {
	switch d.ws() {
	case '{':
		if *dst == nil {
			*dst = new(T)
		}
		return true
	case 'n':
		d.literal("null")
		*dst = nil
		return false
	}
	if *dst == nil {
		*dst = new(T)
	}
	d.skip()
	return false
}

// array decodes the value at d.pos into the slice *dst, each element with
// elem, which gets the element's current value and returns the new one.
// null sets *dst to nil; any other type that is not an array is a type error
// (rejecting the document if code is set). As with encoding/json, elements
// are decoded over those already in the slice, up to its capacity, so a
// repeated key updates rather than replaces them, and an empty array leaves
// an empty, non-nil slice.
func array[E any](d *decoder, dst *[]E, code ErrorCode, field, want string, elem func(E) E) {
	switch d.ws() {
	case '[':
	case 'n':
		d.literal("null")
		*dst = nil
		return
	default:
		d.mistyped(code, field, want)
		return
	}
	d.enter()
	s := *dst
	i, closed := 0, false
	if s == nil {
		// The common case: a short array into a nil slice. Gather the
		// elements here and allocate once instead of growing.
		var small [8]E
		for ; i < len(small); i++ {
			if !d.elem(i) {
				closed = true
				break
			}
			small[i] = elem(small[i])
		}
		s = append(s, small[:i]...)
	}
	for ; !closed && d.elem(i); i++ {
		if i >= cap(s) {
			var zero E
			s = append(s[:i], zero) // len(s) == cap(s) == i here
		} else if i >= len(s) {
			s = s[:i+1]
		}
		s[i] = elem(s[i])
	}
	if i == 0 {
		s = make([]E, 0)
	}
	*dst = s[:i]
}

// strInto decodes a string member into dst.
func (d *decoder) strInto(dst *string, code ErrorCode, field string) {
	switch d.ws() {
	case '"':
		*dst = string(d.str())
	case 'n':
		d.literal("null")
	default:
		d.mistyped(code, field, "string")
	}
}

// fieldInto is strInto for a field of a struct that is decoded in place and
// never copied: the field gets its value at the next flushStrings.
func (d *decoder) fieldInto(dst *string, code ErrorCode, field string) {
	switch d.ws() {
	case '"':
		d.later(dst, d.str())
	case 'n':
		d.literal("null")
	default:
		d.mistyped(code, field, "string")
	}
}

// later sets *dst to a copy of b at the next flushStrings.
func (d *decoder) later(dst *string, b []byte) {
	if d.nrefs == len(d.refs) || len(b) > len(d.text)-d.ntext {
		d.flushStrings()
		if len(b) > len(d.text) {
			*dst = string(b) // after the flush: a later value must win
			return
		}
	}
	n := copy(d.text[d.ntext:], b)
	d.refs[d.nrefs] = textRef{dst: dst, off: d.ntext, end: d.ntext + n}
	d.ntext += n
	d.nrefs++
}

// flushStrings gives the fields waiting in refs their strings, in the order
// they were decoded, from one allocation.
func (d *decoder) flushStrings() {
	s := string(d.text[:d.ntext])
	for _, r := range d.refs[:d.nrefs] {
		*r.dst = s[r.off:r.end]
	}
	d.ntext, d.nrefs = 0, 0
}

// strElem decodes one element of a string array over s and returns it.
func (d *decoder) strElem(s string) string {
	d.strInto(&s, "", "")
	return s
}

// floatInto decodes a number member into dst. A number out of float64's
// range is a type error, as with encoding/json.
func (d *decoder) floatInto(dst *float64, code ErrorCode, field string) {
	switch c := d.ws(); {
	case c == '-' || isDigit(c):
		b := d.number()
		if d.err != nil {
			return
		}
		f, ok := parseFloat(b)
		if !ok {
			d.recordTypeError(code, field, "number "+string(b), "float64")
			return
		}
		*dst = f
	case c == 'n':
		d.literal("null")
	default:
		d.mistyped(code, field, "float64")
	}
}

// intInto decodes an integer member into dst; a number with a fraction or
// exponent, or out of range, is a tolerated type error.
func (d *decoder) intInto(dst *int) {
	switch c := d.ws(); {
	case c == '-' || isDigit(c):
		b := d.number()
		if d.err != nil {
			return
		}
		if n, err := strconv.ParseInt(string(b), 10, strconv.IntSize); err == nil {
			*dst = int(n)
		}
	default:
		d.skip() // null, or a tolerated type error
	}
}

// flexIntInto decodes a member into dst as [FlexInt.UnmarshalJSON] does: it
// sees the number or string as written, quotes and escapes included.
func (d *decoder) flexIntInto(dst *FlexInt) {
	var raw []byte
	switch c := d.ws(); {
	case c == '"':
		raw = d.strRaw()
	case c == '-' || isDigit(c):
		raw = d.number()
	default:
		d.skip() // null, a boolean, an object or an array: never a number
		return
	}
	if n, ok := parseFlexInt(raw); ok && d.err == nil {
		*dst = n
	}
}

// boolInto decodes a boolean member into dst.
func (d *decoder) boolInto(dst *bool) {
	switch d.ws() {
	case 't':
		if d.literal("true") {
			*dst = true
		}
	case 'f':
		if d.literal("false") {
			*dst = false
		}
	default:
		d.skip() // null, or a tolerated type error
	}
}

// mapInto decodes an object member into the map *dst, adding to what it
// holds. null sets *dst to nil; any other type is a tolerated mistake.
func (d *decoder) mapInto(dst *map[string]any) {
	switch d.ws() {
	case '{':
		if *dst == nil {
			*dst = make(map[string]any)
		}
		d.members(*dst)
	case 'n':
		d.literal("null")
		*dst = nil
	default:
		d.skip()
	}
}

// members decodes the members of the object at d.pos into m.
func (d *decoder) members(m map[string]any) {
	d.enter()
	for i := 0; ; i++ {
		k, ok := d.key(i)
		if !ok {
			return
		}
		key := string(k)
		m[key] = d.value()
	}
}

// value decodes any value as encoding/json decodes it into an interface:
// map[string]any, []any, string, float64, bool or nil. A number out of
// float64's range becomes nil.
func (d *decoder) value() any {
	switch d.ws() {
	case '{':
		m := make(map[string]any)
		d.members(m)
		return m
	case '[':
		a := make([]any, 0)
		d.enter()
		for i := 0; d.elem(i); i++ {
			a = append(a, d.value())
		}
		return a
	case '"':
		return string(d.str())
	case 't':
		d.literal("true")
		return true
	case 'f':
		d.literal("false")
		return false
	case 'n':
		d.literal("null")
		return nil
	}
	b := d.number()
	if d.err != nil {
		return nil
	}
	f, ok := parseFloat(b)
	if !ok {
		return nil
	}
	return f
}
