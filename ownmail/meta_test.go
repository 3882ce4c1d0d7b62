package ownmail

import (
	"testing"
	"time"

	"cloister/queue"
)

// TestMetaRecordsWhatMailCarries: a message that holds content of an
// encrypted post carries its plaintext (sealed at rest, encrypted on the
// way out); one written from a template carries nothing of it, whatever
// its lineage; the lineage names the original entry through every step.
func TestMetaRecordsWhatMailCarries(t *testing.T) {
	now := time.Now()
	encrypted := &queue.Meta{ID: "p1", Encryption: "smime", Carries: queue.CarriesPlaintext,
		Lineage: &queue.Lineage{ID: "p1", Encrypted: true}}
	clear := &queue.Meta{ID: "p2", Encryption: "none", Carries: queue.CarriesClear}
	legacy := &queue.Meta{ID: "p3", Encryption: "pgp-mime"} // written before Carries existed
	forward := Meta("team@lists.test", "forward", encrypted, true, now, "ann@subs.test")
	for _, tt := range []struct {
		name         string
		m            *queue.Meta
		carries      string
		lineage      string
		encrypted    bool
		writerSigned bool
	}{
		{"held notice with an encrypted post", Meta("team@lists.test", "notice", encrypted, true, now, "mod@subs.test"), queue.CarriesPlaintext, "p1", true, false},
		{"held notice without it", Meta("team@lists.test", "notice", encrypted, false, now, "mod@subs.test"), queue.CarriesClear, "p1", true, false},
		{"forward of a clear mail", Meta("team@lists.test", "forward", clear, true, now, "ann@subs.test"), queue.CarriesClear, "p2", false, false},
		{"copy of an entry written before Carries", Meta("team@lists.test", "resend", legacy, true, now, "dan@outside.test"), queue.CarriesPlaintext, "p3", true, false},
		{"notice about a forward", Meta("team@lists.test", "notice", forward, true, now, "ann@subs.test"), queue.CarriesPlaintext, "p1", true, false},
		{"notice from no entry", Meta("team@lists.test", "notice", nil, true, now, "ann@subs.test"), queue.CarriesClear, "", false, false},
		{"reply encrypted by its writer", Reply("team@lists.test", encrypted, "reply", "bob@subs.test", true, true, now), queue.CarriesSealed, "p1", true, true},
		{"reply its writer could not encrypt", Reply("team@lists.test", encrypted, "reply", "bob@subs.test", false, true, now), queue.CarriesPlaintext, "p1", true, false},
		{"short reply to an encrypted mail", Reply("team@lists.test", encrypted, "reply", "bob@subs.test", false, false, now), queue.CarriesClear, "p1", true, true},
		{"archive get for a clear command", Reply("team@lists.test", clear, "reply", "bob@subs.test", true, true, now), queue.CarriesSealed, "p2", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			if m.Carries != tt.carries || m.WriterSigned != tt.writerSigned {
				t.Errorf("carries %q, writer signed %v", m.Carries, m.WriterSigned)
			}
			switch {
			case tt.lineage == "" && m.Lineage != nil:
				t.Errorf("lineage %+v", m.Lineage)
			case tt.lineage != "" && (m.Lineage == nil || m.Lineage.ID != tt.lineage || m.Lineage.Encrypted != tt.encrypted):
				t.Errorf("lineage %+v", m.Lineage)
			}
			if m.Confidential() != (tt.carries != queue.CarriesClear) {
				t.Errorf("confidential %v", m.Confidential())
			}
		})
	}
}
