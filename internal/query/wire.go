package query

import (
	"encoding/json"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// toWire converts a stored summary to X-Ray's TraceSummary, emitting every
// list member (empty rather than absent) for the strictest clients.
func toWire(s summary.Summary) xrayapi.TraceSummary {
	ts := xrayapi.TraceSummary{
		ID:                     s.ID,
		StartTime:              s.StartTime,
		HasFault:               s.HasFault,
		HasError:               s.HasError,
		HasThrottle:            s.HasThrottle,
		IsPartial:              s.IsPartial,
		Annotations:            map[string][]xrayapi.ValueWithServiceIDs{},
		Users:                  []xrayapi.TraceUser{},
		ServiceIDs:             serviceIDs(s.ServiceIDs),
		ResourceARNs:           []xrayapi.ResourceARNDetail{},
		InstanceIDs:            []xrayapi.InstanceIDDetail{},
		AvailabilityZones:      []xrayapi.AvailabilityZoneDetail{},
		FaultRootCauses:        rawCauses(s.FaultRootCauses),
		ErrorRootCauses:        rawCauses(s.ErrorRootCauses),
		ResponseTimeRootCauses: rawCauses(s.ResponseTimeRootCauses),
		Revision:               s.Revision,
		ColdStart:              s.ColdStart,
	}
	if s.HasDuration {
		d := s.Duration
		ts.Duration = &d
	}
	if s.HasResponse {
		r := s.ResponseTime
		ts.ResponseTime = &r
	}
	if s.HTTP != nil {
		ts.HTTP = &xrayapi.HTTP{HTTPURL: s.HTTP.HTTPURL, HTTPStatus: s.HTTP.HTTPStatus, HTTPMethod: s.HTTP.HTTPMethod,
			UserAgent: s.HTTP.UserAgent, ClientIP: s.HTTP.ClientIP}
	}
	for k, vals := range s.Annotations {
		for _, v := range vals {
			ts.Annotations[k] = append(ts.Annotations[k], xrayapi.ValueWithServiceIDs{
				AnnotationValue: xrayapi.AnnotationValue{NumberValue: v.AnnotationValue.NumberValue,
					BooleanValue: v.AnnotationValue.BooleanValue, StringValue: v.AnnotationValue.StringValue},
				ServiceIDs: serviceIDs(v.ServiceIDs),
			})
		}
	}
	for _, u := range s.Users {
		ts.Users = append(ts.Users, xrayapi.TraceUser{UserName: u.UserName, ServiceIDs: serviceIDs(u.ServiceIDs)})
	}
	for _, a := range s.ResourceARNs {
		ts.ResourceARNs = append(ts.ResourceARNs, xrayapi.ResourceARNDetail{ARN: a})
	}
	for _, i := range s.InstanceIDs {
		ts.InstanceIDs = append(ts.InstanceIDs, xrayapi.InstanceIDDetail{ID: i})
	}
	for _, z := range s.AvailabilityZones {
		ts.AvailabilityZones = append(ts.AvailabilityZones, xrayapi.AvailabilityZoneDetail{Name: z})
	}
	if s.EntryPoint != nil {
		e := serviceID(*s.EntryPoint)
		ts.EntryPoint = &e
	}
	return ts
}

func serviceIDs(in []summary.ServiceID) []xrayapi.ServiceID {
	out := make([]xrayapi.ServiceID, 0, len(in))
	for _, s := range in {
		out = append(out, serviceID(s))
	}
	return out
}

func serviceID(s summary.ServiceID) xrayapi.ServiceID {
	names := s.Names
	if names == nil {
		names = []string{}
	}
	return xrayapi.ServiceID{Name: s.Name, Names: names, AccountID: s.AccountID, Type: s.Type}
}

// rawCauses encodes root causes for the wire; summary.RootCause carries
// X-Ray's field names.
func rawCauses(rcs []summary.RootCause) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(rcs))
	for _, rc := range rcs {
		b, err := json.Marshal(rc)
		if err != nil {
			continue // plain structs of strings, bools and finite floats
		}
		out = append(out, b)
	}
	return out
}
