package segment

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHeader(t *testing.T) {
	t.Parallel()
	const root = "1-5759e988-bd862e3fe1be46a994272793"
	tests := []struct {
		name string
		in   string
		want Header
		// str is what String prints for want; "" means in itself.
		str string
	}{
		{
			name: "sdk outgoing",
			in:   "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
			want: Header{Root: root, Parent: "53995c3f42cd8ad8", Sampled: "1"},
		},
		{
			name: "spaces after semicolons",
			in:   "Root=1-5759e988-bd862e3fe1be46a994272793; Parent=53995c3f42cd8ad8; Sampled=0",
			want: Header{Root: root, Parent: "53995c3f42cd8ad8", Sampled: "0"},
			str:  "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
		},
		{
			name: "lineage kept",
			in:   "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1;Lineage=a87bd80c:1|68fd508a:5|c512fbe3:2",
			want: Header{Root: root, Sampled: "1", Lineage: "a87bd80c:1|68fd508a:5|c512fbe3:2"},
		},
		{
			name: "self dropped",
			in:   "Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678",
			want: Header{Root: "1-67891233-abcdef012345678912345678"},
			str:  "Root=1-67891233-abcdef012345678912345678",
		},
		{
			name: "extra data kept in order",
			in:   "Root=1-5759e988-bd862e3fe1be46a994272793;Foo=bar;Sampled=?;Baz=a=b",
			want: Header{Root: root, Sampled: "?", Extra: [][2]string{{"Foo", "bar"}, {"Baz", "a=b"}}},
			str:  "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?;Foo=bar;Baz=a=b",
		},
		{
			name: "order of parts does not matter",
			in:   "Sampled=1;Parent=53995C3F42CD8AD8;Root=1-5759E988-BD862E3FE1BE46A994272793",
			want: Header{Root: root, Parent: "53995c3f42cd8ad8", Sampled: "1"},
			str:  "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		},
		{
			name: "lambda environment",
			in:   "Root=1-654c0557-5611b044040fc7224c4790b6;Parent=7869f11198c79dd1;Sampled=1;Lineage=1:2c8a7a0a:0",
			want: Header{Root: "1-654c0557-5611b044040fc7224c4790b6", Parent: "7869f11198c79dd1", Sampled: "1", Lineage: "1:2c8a7a0a:0"},
		},
		{
			name: "malformed parts ignored",
			in:   "Root=1-bad;Parent=xyz;Sampled=yes;junk;;=orphan;  ;Foo=bar",
			want: Header{Extra: [][2]string{{"Foo", "bar"}}},
			str:  "Foo=bar",
		},
		{
			name: "malformed root keeps the rest",
			in:   "Root=1-5759e988-bd862e3fe1be46a99427279;Parent=53995c3f42cd8ad8;Sampled=1",
			want: Header{Parent: "53995c3f42cd8ad8", Sampled: "1"},
			str:  "Parent=53995c3f42cd8ad8;Sampled=1",
		},
		{name: "empty", in: "", want: Header{}},
		{
			name: "trailing semicolon",
			in:   "Root=1-5759e988-bd862e3fe1be46a994272793;",
			want: Header{Root: root},
			str:  "Root=1-5759e988-bd862e3fe1be46a994272793",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ParseHeader(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseHeader(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			wantStr := tt.str
			if wantStr == "" {
				wantStr = tt.in
			}
			if s := got.String(); s != wantStr {
				t.Errorf("ParseHeader(%q).String() = %q; want %q", tt.in, s, wantStr)
			}
			if again := ParseHeader(got.String()); !cmp.Equal(again, got) {
				t.Errorf("ParseHeader(%q) does not round-trip: String() = %q parses to %+v; want %+v", tt.in, got.String(), again, got)
			}
		})
	}
}
