package summary

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAnnotationValue(t *testing.T) {
	s, n, b := "x", 3.5, true
	tests := []struct {
		in     any
		want   AnnotationValue
		wantOK bool
	}{
		{"x", AnnotationValue{StringValue: &s}, true},
		{3.5, AnnotationValue{NumberValue: &n}, true},
		{json.Number("3.5"), AnnotationValue{NumberValue: &n}, true},
		{true, AnnotationValue{BooleanValue: &b}, true},
		{json.Number("x"), AnnotationValue{}, false},
		{nil, AnnotationValue{}, false},
		{map[string]any{"k": 1.0}, AnnotationValue{}, false},
		{[]any{1.0}, AnnotationValue{}, false},
	}
	for _, tt := range tests {
		got, ok := annotationValue(tt.in)
		if ok != tt.wantOK {
			t.Errorf("annotationValue(%#v) ok = %v, want %v", tt.in, ok, tt.wantOK)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("annotationValue(%#v) (-want +got):\n%s", tt.in, diff)
		}
	}
}
