package embedded

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/bytesreader"
	"github.com/thawtrace/thaw/internal/segment"
)

// summaryVersion is the encoding of summary values: a compact binary form
// (docs/store-format.md, "Summary values"). Node identities, repeated in a
// summary's service list, annotations, users and entry point, are written
// once in a table and referred to by index. Version 1 (JSON) is still read.
const summaryVersion = 2

// Flag bits of a summary value.
const (
	flagHasDuration = 1 << iota
	flagHasResponse
	flagFault
	flagError
	flagThrottle
	flagPartial
	flagColdKnown
	flagCold
	flagHTTP
	flagEntryPoint
)

// Modes of a node's Names list.
const (
	namesNil  = 0 // nil
	namesSelf = 1 // []string{Name}
	namesList = 2 // a list follows
)

// Annotation value kinds.
const (
	annNumber = 0
	annBool   = 1
	annString = 2
)

type encoder struct {
	b     []byte
	nodes []summary.ServiceID
}

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

func (e *encoder) float(f float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f)) }

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

// node returns the index of id in the node table, adding it if new.
func (e *encoder) node(id summary.ServiceID) int {
	for i, n := range e.nodes {
		if n.Name == id.Name && n.Type == id.Type && n.AccountID == id.AccountID && slices.Equal(n.Names, id.Names) && (n.Names == nil) == (id.Names == nil) {
			return i
		}
	}
	e.nodes = append(e.nodes, id)
	return len(e.nodes) - 1
}

func (e *encoder) nodeRefs(ids []summary.ServiceID) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = e.node(id)
	}
	return out
}

func (e *encoder) refs(r []int) {
	e.uvarint(uint64(len(r)))
	for _, i := range r {
		e.uvarint(uint64(i))
	}
}

// encodeSummary writes s in the compact form with no write time (tests).
func encodeSummary(s summary.Summary) []byte { return encodeSummaryValue(s, 0) }

// encodeSummaryValue writes s in the compact form, after the time it was
// written (epoch seconds, the server's clock), which retention goes by. The
// trace id is the key's.
func encodeSummaryValue(s summary.Summary, written uint32) []byte {
	// Node references are collected first so the table can precede them.
	var refs encoder
	services := refs.nodeRefs(s.ServiceIDs)
	entry := -1
	if s.EntryPoint != nil {
		entry = refs.node(*s.EntryPoint)
	}
	keys := make([]string, 0, len(s.Annotations))
	for k := range s.Annotations {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	annRefs := make([][][]int, len(keys))
	for i, k := range keys {
		for _, v := range s.Annotations[k] {
			annRefs[i] = append(annRefs[i], refs.nodeRefs(v.ServiceIDs))
		}
	}
	userRefs := make([][]int, len(s.Users))
	for i, u := range s.Users {
		userRefs[i] = refs.nodeRefs(u.ServiceIDs)
	}
	var causeRefs [3][][]int
	for i, list := range causeLists(&s) {
		for _, rc := range *list {
			ids := make([]summary.ServiceID, len(rc.Services))
			for j, svc := range rc.Services {
				ids[j] = summary.ServiceID{Name: svc.Name, Names: svc.Names, Type: svc.Type, AccountID: svc.AccountID}
			}
			causeRefs[i] = append(causeRefs[i], refs.nodeRefs(ids))
		}
	}

	e := encoder{b: make([]byte, 0, 512)}
	e.b = append(e.b, summaryVersion)
	e.uvarint(uint64(written))
	var flags uint64
	set := func(bit uint64, on bool) {
		if on {
			flags |= bit
		}
	}
	set(flagHasDuration, s.HasDuration)
	set(flagHasResponse, s.HasResponse)
	set(flagFault, s.HasFault)
	set(flagError, s.HasError)
	set(flagThrottle, s.HasThrottle)
	set(flagPartial, s.IsPartial)
	set(flagColdKnown, s.ColdStart != nil)
	set(flagCold, s.ColdStart != nil && *s.ColdStart)
	set(flagHTTP, s.HTTP != nil)
	set(flagEntryPoint, entry >= 0)
	e.uvarint(flags)
	// The start in full; the end as microseconds after it (plus one, 0: no
	// end); durations, which Compute rounds to microseconds, as microseconds.
	e.float(s.StartTime)
	end := uint64(0)
	if s.EndTime != 0 {
		end = 1 + uint64(max(0, micros(s.EndTime-s.StartTime)))
	}
	e.uvarint(end)
	e.uvarint(uint64(max(0, micros(s.Duration))))
	e.uvarint(uint64(max(0, micros(s.ResponseTime))))
	e.uvarint(uint64(s.Revision))
	e.str(s.ColdStartSource)
	if h := s.HTTP; h != nil {
		e.str(h.HTTPURL)
		e.uvarint(uint64(h.HTTPStatus))
		e.str(h.HTTPMethod)
		e.str(h.UserAgent)
		e.str(h.ClientIP)
	}
	e.uvarint(uint64(len(refs.nodes)))
	for _, n := range refs.nodes {
		e.str(n.Name)
		e.str(n.Type)
		e.str(n.AccountID)
		switch {
		case n.Names == nil:
			e.uvarint(namesNil)
		case len(n.Names) == 1 && n.Names[0] == n.Name:
			e.uvarint(namesSelf)
		default:
			e.uvarint(namesList)
			e.strs(n.Names)
		}
	}
	e.refs(services)
	if entry >= 0 {
		e.uvarint(uint64(entry))
	}
	e.uvarint(uint64(len(keys)))
	for i, k := range keys {
		e.str(k)
		vals := s.Annotations[k]
		e.uvarint(uint64(len(vals)))
		for j, v := range vals {
			switch av := v.AnnotationValue; {
			case av.NumberValue != nil:
				e.b = append(e.b, annNumber)
				e.float(*av.NumberValue)
			case av.BooleanValue != nil:
				e.b = append(e.b, annBool)
				if *av.BooleanValue {
					e.b = append(e.b, 1)
				} else {
					e.b = append(e.b, 0)
				}
			default:
				e.b = append(e.b, annString)
				var str string
				if av.StringValue != nil {
					str = *av.StringValue
				}
				e.str(str)
			}
			e.refs(annRefs[i][j])
		}
	}
	e.uvarint(uint64(len(s.Users)))
	for i, u := range s.Users {
		e.str(u.UserName)
		e.refs(userRefs[i])
	}
	e.strs(s.ResourceARNs)
	e.strs(s.InstanceIDs)
	e.strs(s.AvailabilityZones)
	// Events as microsecond offsets: from the trace's start to each
	// segment's start (zigzag, a segment may start first), and from the
	// segment's start to its end (0: in progress). Full floats here were
	// the most random bytes of a summary.
	e.uvarint(uint64(len(s.Events)))
	for _, ev := range s.Events {
		e.uvarint(zigzag(micros(ev.Start - s.StartTime)))
		end := uint64(0)
		if ev.End != 0 {
			end = 1 + uint64(max(0, micros(ev.End-ev.Start)))
		}
		e.uvarint(end)
	}
	for i, list := range causeLists(&s) {
		e.uvarint(uint64(len(*list)))
		for j, rc := range *list {
			e.rootCause(rc, causeRefs[i][j])
		}
	}
	return e.b
}

// causeLists are a summary's three root-cause lists, in encoding order.
func causeLists(s *summary.Summary) [3]*[]summary.RootCause {
	return [3]*[]summary.RootCause{&s.FaultRootCauses, &s.ErrorRootCauses, &s.ResponseTimeRootCauses}
}

// Flag bits of a root-cause entity.
const (
	entityRemote = 1 << iota
	entityCoverage
)

func (e *encoder) rootCause(rc summary.RootCause, nodes []int) {
	if rc.ClientImpacting {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
	e.uvarint(uint64(len(rc.Services)))
	for i, svc := range rc.Services {
		e.uvarint(uint64(nodes[i]))
		if svc.Inferred {
			e.b = append(e.b, 1)
		} else {
			e.b = append(e.b, 0)
		}
		e.uvarint(uint64(len(svc.EntityPath)))
		for _, ent := range svc.EntityPath {
			e.str(ent.Name)
			var flags byte
			if ent.Remote {
				flags |= entityRemote
			}
			if ent.Coverage != nil {
				flags |= entityCoverage
			}
			e.b = append(e.b, flags)
			if ent.Coverage != nil {
				// Four decimals (summary.Compute rounds to them) in a varint.
				e.uvarint(uint64(math.Round(max(0, *ent.Coverage) * 1e4)))
			}
			e.uvarint(uint64(len(ent.Exceptions)))
			for _, x := range ent.Exceptions {
				e.str(x.Name)
				e.str(x.Message)
			}
		}
	}
}

func (d *decoder) rootCause(table []summary.ServiceID) summary.RootCause {
	rc := summary.RootCause{ClientImpacting: d.Byte() == 1}
	n := d.Count()
	if n > 0 {
		rc.Services = make([]summary.RootCauseService, n)
	}
	for i := range rc.Services {
		id := d.node(table)
		svc := summary.RootCauseService{Name: id.Name, Names: id.Names, Type: id.Type, AccountID: id.AccountID, Inferred: d.Byte() == 1}
		if m := d.Count(); m > 0 {
			svc.EntityPath = make([]summary.RootCauseEntity, m)
		}
		for j := range svc.EntityPath {
			ent := summary.RootCauseEntity{Name: d.String()}
			flags := d.Byte()
			ent.Remote = flags&entityRemote != 0
			if flags&entityCoverage != 0 {
				cv := float64(d.Uvarint()) / 1e4
				ent.Coverage = &cv
			}
			if k := d.Count(); k > 0 {
				ent.Exceptions = make([]summary.RootCauseException, k)
				for x := range ent.Exceptions {
					ent.Exceptions[x] = summary.RootCauseException{Name: d.String(), Message: d.String()}
				}
			}
			svc.EntityPath[j] = ent
		}
		rc.Services[i] = svc
	}
	return rc
}

// decoder reads a compact summary value.
type decoder struct{ *bytesreader.Reader }

func (d *decoder) strs() []string {
	n := d.Count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.String()
	}
	return out
}

func (d *decoder) node(table []summary.ServiceID) summary.ServiceID {
	i := d.Uvarint()
	if d.Err() == nil && i >= uint64(len(table)) {
		d.Fail(fmt.Errorf("summary value refers to node %d of %d", i, len(table)))
	}
	if d.Err() != nil {
		return summary.ServiceID{}
	}
	n := table[i]
	n.Names = slices.Clone(n.Names) // callers own their lists
	return n
}

func (d *decoder) nodes(table []summary.ServiceID) []summary.ServiceID {
	n := d.Count()
	if n == 0 {
		return nil
	}
	out := make([]summary.ServiceID, n)
	for i := range out {
		out[i] = d.node(table)
	}
	return out
}

// decodeSummaryV2 reads the compact form written by encodeSummary.
func decodeSummaryV2(id segment.TraceID, v []byte) (summary.Summary, error) {
	d := decoder{bytesreader.New(v)}
	d.Uvarint() // the write time; see summaryWritten
	s := summary.Summary{ID: string(id)}
	flags := d.Uvarint()
	has := func(bit uint64) bool { return flags&bit != 0 }
	s.HasDuration, s.HasResponse = has(flagHasDuration), has(flagHasResponse)
	s.HasFault, s.HasError, s.HasThrottle, s.IsPartial = has(flagFault), has(flagError), has(flagThrottle), has(flagPartial)
	if has(flagColdKnown) {
		cold := has(flagCold)
		s.ColdStart = &cold
	}
	s.StartTime = d.Float64()
	if end := d.Uvarint(); end > 0 {
		s.EndTime = s.StartTime + float64(end-1)/1e6
	}
	s.Duration, s.ResponseTime = float64(d.Uvarint())/1e6, float64(d.Uvarint())/1e6
	s.Revision = int(d.Uvarint())
	s.ColdStartSource = d.String()
	if has(flagHTTP) {
		s.HTTP = &summary.HTTP{HTTPURL: d.String(), HTTPStatus: int(d.Uvarint()), HTTPMethod: d.String(), UserAgent: d.String(), ClientIP: d.String()}
	}
	table := make([]summary.ServiceID, d.Count())
	for i := range table {
		n := summary.ServiceID{Name: d.String(), Type: d.String(), AccountID: d.String()}
		switch d.Uvarint() {
		case namesNil:
		case namesSelf:
			n.Names = []string{n.Name}
		default:
			n.Names = d.strs()
		}
		table[i] = n
	}
	s.ServiceIDs = d.nodes(table)
	if has(flagEntryPoint) {
		e := d.node(table)
		s.EntryPoint = &e
	}
	if n := d.Count(); n > 0 {
		s.Annotations = make(map[string][]summary.ValueWithServiceIDs, n)
		for range n {
			k := d.String()
			vals := make([]summary.ValueWithServiceIDs, d.Count())
			for j := range vals {
				switch d.Byte() {
				case annNumber:
					f := d.Float64()
					vals[j].AnnotationValue.NumberValue = &f
				case annBool:
					b := d.Byte() == 1
					vals[j].AnnotationValue.BooleanValue = &b
				default:
					str := d.String()
					vals[j].AnnotationValue.StringValue = &str
				}
				vals[j].ServiceIDs = d.nodes(table)
			}
			s.Annotations[k] = vals
		}
	}
	if n := d.Count(); n > 0 {
		s.Users = make([]summary.User, n)
		for i := range s.Users {
			s.Users[i] = summary.User{UserName: d.String(), ServiceIDs: d.nodes(table)}
		}
	}
	s.ResourceARNs, s.InstanceIDs, s.AvailabilityZones = d.strs(), d.strs(), d.strs()
	if n := d.Count(); n > 0 {
		s.Events = make([]summary.Event, n)
		for i := range s.Events {
			start := s.StartTime + float64(unzigzag(d.Uvarint()))/1e6
			ev := summary.Event{Start: start}
			if end := d.Uvarint(); end > 0 {
				ev.End = start + float64(end-1)/1e6
			}
			s.Events[i] = ev
		}
	}
	for _, list := range causeLists(&s) {
		if n := d.Count(); n > 0 {
			*list = make([]summary.RootCause, n)
			for i := range *list {
				(*list)[i] = d.rootCause(table)
			}
		}
	}
	if err := d.Finish(); err != nil {
		return summary.Summary{}, fmt.Errorf("decode summary %s: %w", id, err)
	}
	return s, nil
}

// summaryWritten returns the write time stored in a summary value, 0 when it
// has none (version 1).
func summaryWritten(v []byte) uint32 {
	if len(v) < 2 || v[0] != summaryVersion {
		return 0
	}
	w, n := binary.Uvarint(v[1:])
	if n <= 0 || w > math.MaxUint32 {
		return 0
	}
	return uint32(w)
}

func micros(sec float64) int64 { return int64(math.Round(sec * 1e6)) }

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
