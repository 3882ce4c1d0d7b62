package notices

import (
	"strings"
	"testing"
	"time"
)

// TestHeader: a list's mail says which list wrote it; the site's mail (no
// list) has its message id in the site's domain and no list fields; a
// field that cannot be written is an error of Encode.
func TestHeader(t *testing.T) {
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		h         Header
		want, not []string
		err       bool
	}{
		{"list", Header{From: "team-owner@lists.test", To: "ann@subs.test", Subject: "hi", List: "team@lists.test"},
			[]string{"Auto-Submitted: auto-replied\n", "X-Loop: team@lists.test\n", "List-Id: <team.lists.test>\n", "Precedence: list\n", "@lists.test>\n"}, nil, false},
		{"site", Header{From: "postmaster@site.test", To: "ann@subs.test", Subject: "code", Domain: "site.test", AutoSubmitted: "auto-generated"},
			[]string{"Auto-Submitted: auto-generated\n", "@site.test>\n", "Subject: code\n"}, []string{"X-Loop", "List-Id", "Precedence"}, false},
		{"bad address", Header{From: "postmaster@site.test", To: "not an address", Subject: "code", Domain: "site.test"},
			nil, []string{"To:"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.h.Encode(now)
			if (err != nil) != tt.err {
				t.Fatalf("Encode: %v, want error %v", err, tt.err)
			}
			got := string(b)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("holds %q:\n%s", n, got)
				}
			}
		})
	}
}
