package segment

import (
	"errors"
	"testing"
)

func TestParseTraceID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    TraceID
		wantErr bool
	}{
		{in: "1-58406520-a006649127e371903a2de979", want: "1-58406520-a006649127e371903a2de979"},
		{in: "1-5759E988-BD862E3FE1BE46A994272793", want: "1-5759e988-bd862e3fe1be46a994272793"},
		{in: "1-00000000-000000000000000000000000", want: "1-00000000-000000000000000000000000"},
		// W3C-derived ids carry a random "epoch"; any hex is accepted.
		{in: "1-4efaaf4d-1e8720b39541901950019ee5", want: "1-4efaaf4d-1e8720b39541901950019ee5"},
		{in: "1-ffffffff-ffffffffffffffffffffffff", want: "1-ffffffff-ffffffffffffffffffffffff"},
		{in: "", wantErr: true},
		{in: "1", wantErr: true},
		{in: "1-58406520-a006649127e371903a2de97", wantErr: true},   // 34 chars
		{in: "1-58406520-a006649127e371903a2de9790", wantErr: true}, // 36 chars
		{in: "2-58406520-a006649127e371903a2de979", wantErr: true},  // version
		{in: "1_58406520-a006649127e371903a2de979", wantErr: true},
		{in: "1-58406520_a006649127e371903a2de979", wantErr: true},
		{in: "1-5840652g-a006649127e371903a2de979", wantErr: true},
		{in: "1-58406520-a006649127e371903a2de97z", wantErr: true},
		{in: "1-58406520-a006649127e371903a2de-79", wantErr: true},
		{in: "1-584065200a006649127e371903a2de979", wantErr: true},
		{in: " 1-58406520-a006649127e371903a2de979", wantErr: true},
		{in: "1-58406520-a006649127e371903a2de9é", wantErr: true}, // 35 bytes, non-ASCII
		{in: "4efaaf4d1e8720b39541901950019ee5", wantErr: true},   // bare W3C id
	}
	for _, tt := range tests {
		got, err := ParseTraceID(tt.in)
		if tt.wantErr {
			if err == nil || !errors.Is(err, ErrTraceID) {
				t.Errorf("ParseTraceID(%q) = %q, %v; want an error wrapping ErrTraceID", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseTraceID(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestTraceIDBytesRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   TraceID
		want [16]byte
	}{
		{
			id:   "1-58406520-a006649127e371903a2de979",
			want: [16]byte{0x58, 0x40, 0x65, 0x20, 0xa0, 0x06, 0x64, 0x91, 0x27, 0xe3, 0x71, 0x90, 0x3a, 0x2d, 0xe9, 0x79},
		},
		{id: "1-00000000-000000000000000000000000"},
		{
			id:   "1-ffffffff-ffffffffffffffffffffffff",
			want: [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		},
	}
	for _, tt := range tests {
		got := tt.id.Bytes()
		if got != tt.want {
			t.Errorf("TraceID(%q).Bytes() = %x; want %x", tt.id, got, tt.want)
		}
		if back := TraceIDFromBytes(got); back != tt.id {
			t.Errorf("TraceIDFromBytes(%x) = %q; want %q", got, back, tt.id)
		}
	}
	if got := TraceID("bogus").Bytes(); got != [16]byte{} {
		t.Errorf(`TraceID("bogus").Bytes() = %x; want zero`, got)
	}
}

func TestTraceIDBytesSortLikeIDs(t *testing.T) {
	t.Parallel()
	ids := []TraceID{
		"1-00000001-000000000000000000000000",
		"1-58406520-a006649127e371903a2de979",
		"1-58406520-a006649127e371903a2de97a",
		"1-58406521-000000000000000000000000",
		"1-ffffffff-ffffffffffffffffffffffff",
	}
	for i := 1; i < len(ids); i++ {
		a, b := ids[i-1].Bytes(), ids[i].Bytes()
		if string(a[:]) >= string(b[:]) {
			t.Errorf("Bytes(%q) = %x is not below Bytes(%q) = %x", ids[i-1], a, ids[i], b)
		}
	}
}

func TestTraceIDEpoch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   TraceID
		want int64
	}{
		{id: "1-58406520-a006649127e371903a2de979", want: 1480615200},
		{id: "1-00000000-000000000000000000000000", want: 0},
		{id: "1-ffffffff-000000000000000000000000", want: 0xffffffff},
		{id: "", want: 0},
		{id: "1-5840652g-a006649127e371903a2de979", want: 0},
	}
	for _, tt := range tests {
		if got := tt.id.Epoch(); got != tt.want {
			t.Errorf("TraceID(%q).Epoch() = %d; want %d", tt.id, got, tt.want)
		}
	}
}

func TestParseID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{in: "53995c3f42cd8ad8", want: "53995c3f42cd8ad8", wantOK: true},
		{in: "53995C3F42CD8AD8", want: "53995c3f42cd8ad8", wantOK: true},
		{in: "0000000000000000", want: "0000000000000000", wantOK: true},
		{in: ""},
		{in: "53995c3f42cd8ad"},
		{in: "53995c3f42cd8ad80"},
		{in: "53995c3f42cd8adg"},
		{in: "53995c3f-2cd8ad8"},
		{in: "abcdefghijklmnop"},
		{in: "53995c3f42cd8aé"}, // 16 bytes, non-ASCII
	}
	for _, tt := range tests {
		got, ok := ParseID(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestIDBytes(t *testing.T) {
	t.Parallel()
	in := "53995c3f42cd8ad8"
	want := [8]byte{0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a, 0xd8}
	if got := IDBytes(in); got != want {
		t.Errorf("IDBytes(%q) = %x; want %x", in, got, want)
	}
}
