package queue

import (
	"reflect"
	"testing"
)

func TestParseCrashAt(t *testing.T) {
	tests := []struct {
		spec string
		want map[string]int
		bad  bool
	}{
		{"", map[string]int{}, false},
		{"published:2", map[string]int{"published": 2}, false},
		{"accepted:1, journaled:3", map[string]int{"accepted": 1, "journaled": 3}, false},
		{"published", nil, true},
		{"published:0", nil, true},
		{":2", nil, true},
		{"published:x", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseCrashAt(tt.spec)
		if (err != nil) != tt.bad {
			t.Errorf("ParseCrashAt(%q) error = %v, want error %v", tt.spec, err, tt.bad)
			continue
		}
		if !tt.bad && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCrashAt(%q) = %v, want %v", tt.spec, got, tt.want)
		}
	}
}
