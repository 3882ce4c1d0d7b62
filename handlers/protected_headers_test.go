package handlers

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

func TestProtectHeadersRoundTrip(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n"} {
		innerBody := "Grüße" + nl + "-- " + nl + "x" + nl
		inner := []byte(strings.ReplaceAll("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\nSubject: stale\n\n", "\n", nl) + innerBody)
		outer, err := mailmsg.Parse([]byte(strings.ReplaceAll("From: Alice <alice@example.org>\nTo: team@lists.example.test\nSubject: =?utf-8?q?Re=3A_=5Bteam=5D_Gr=C3=BC=C3=9Fe?=\nDate: Tue, 24 Nov 2026 09:10:00 +0100\nMessage-ID: <m1@example.org>\nList-Id: <team.lists.example.test>\n\n", "\n", nl)))
		if err != nil {
			t.Fatal(err)
		}
		out, err := ProtectHeaders(inner, outer)
		if err != nil {
			t.Fatal(err)
		}
		if got := outer.Get("Subject"); got != ObscuredSubject {
			t.Errorf("outer Subject = %q", got)
		}
		if outer.Get("From") != "Alice <alice@example.org>" || outer.Get("List-Id") == "" {
			t.Errorf("outer fields other than Subject changed:\n%s", outer.HeaderBytes())
		}
		if !bytes.HasSuffix(out, []byte(nl+nl+innerBody)) {
			t.Errorf("inner body changed:\n%q", out)
		}
		p, ok, err := ReadProtected(out)
		if err != nil || !ok {
			t.Fatalf("ReadProtected: %v %v\n%s", ok, err, out)
		}
		if mailmsg.DecodeHeader(p.Subject) != "Re: [team] Grüße" || p.From != "Alice <alice@example.org>" {
			t.Errorf("ReadProtected = %+v", p)
		}
		in, _ := mailmsg.Parse(out)
		if n := len(in.Values("Subject")); n != 1 {
			t.Errorf("inner has %d Subject fields", n)
		}
		if v := in.Values("HP-Outer"); len(v) != 5 || v[0] != "Subject: ..." {
			t.Errorf("HP-Outer = %q", v)
		}
		if in.Has("List-Id") {
			t.Errorf("List-Id copied inside")
		}
		ct := in.Get("Content-Type")
		if !strings.HasSuffix(ct, `; protected-headers="v1"; hp="cipher"`) {
			t.Errorf("inner Content-Type = %q", ct)
		}
	}
}

func TestProtectHeadersBadInput(t *testing.T) {
	outer, _ := mailmsg.Parse([]byte("Subject: s\n\n"))
	if _, err := ProtectHeaders(nil, outer); err == nil {
		t.Error("empty inner accepted")
	}
	if _, err := ProtectHeaders([]byte("Content-Type: text/plain; =bad\n\nx"), outer); err == nil {
		t.Error("bad inner Content-Type accepted")
	}
	if _, err := ProtectHeaders([]byte("Content-Type: text/plain\n\nx"), nil); err == nil {
		t.Error("nil outer accepted")
	}
}

// TestReadProtectedCorpus reads the protected Subject of the signed part of
// a Thunderbird message.
func TestReadProtectedCorpus(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testdirs.Corpus(t), "thunderbird-openpgp/msgs/signed-by-0xfbfcc82a015e7330-to-0xf231550c4f47e38e-unencrypted.eml"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := rawmime.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := top.MediaType()
	parts, err := rawmime.SplitMultipart(top.Body, params["boundary"], 10)
	if err != nil {
		t.Fatal(err)
	}
	p, ok, err := ReadProtected(parts[0])
	if err != nil || !ok || p.Subject != "Signed Unencrypted" {
		t.Fatalf("ReadProtected = %+v %v %v", p, ok, err)
	}
	if _, ok, _ := ReadProtected(raw); ok {
		t.Fatalf("the outer message declares no protected headers but ReadProtected found some")
	}
}

func TestProtectedHeadersHandler(t *testing.T) {
	raw := "From: a@example.org\nSubject: real\nContent-Type: text/plain; protected-headers=\"v1\"\n\nx\n"
	for _, enc := range []string{"", "none", "pgp-mime", "smime"} {
		ctx := newTestContext(t, []byte(raw), caseConfig{Meta: &queue.Meta{Encryption: enc}})
		if err := (ProtectedHeaders{}).Process(ctx); err != nil {
			t.Fatal(err)
		}
		encrypted := enc == "pgp-mime" || enc == "smime"
		if changed := string(ctx.Msg.Bytes()) != raw; changed != encrypted {
			t.Errorf("encryption %q: message changed = %v", enc, changed)
		}
	}
	if !IsPlaceholderSubject(" ... ") || !IsPlaceholderSubject("Encrypted Message") || IsPlaceholderSubject("hi") {
		t.Error("IsPlaceholderSubject")
	}
}

// TestProtectHeadersAs: with a shown header, the outer header becomes it
// (its Subject obscured), the post's protected fields and the fields shown
// lacks go inside, fields shown has stay outside only, and HP-Outer says
// what shown shows.
func TestProtectHeadersAs(t *testing.T) {
	outer, err := mailmsg.Parse([]byte("From: Alice <alice@example.org>\nTo: team@lists.example.test\nSubject: Plans\n" +
		"Date: Tue, 24 Nov 2026 09:10:00 +0100\nMessage-ID: <m1@example.org>\nUser-Agent: Mailer 2\nList-Id: <team.lists.example.test>\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	shown, err := mailmsg.Parse([]byte("From: team@lists.example.test\nTo: team@lists.example.test\nSubject: x\n" +
		"Message-ID: <abc@lists.example.test>\nList-Id: <team.lists.example.test>\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ProtectHeadersAs([]byte("Content-Type: text/plain\n\nhi\n"), outer, shown)
	if err != nil {
		t.Fatal(err)
	}
	in, err := mailmsg.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		msg         *mailmsg.Message
		where, name string
		want        []string
	}{
		{outer, "outer", "From", []string{"team@lists.example.test"}},
		{outer, "outer", "Subject", []string{ObscuredSubject}},
		{outer, "outer", "Message-ID", []string{"<abc@lists.example.test>"}},
		{outer, "outer", "Date", nil},
		{outer, "outer", "User-Agent", nil},
		{outer, "outer", "List-Id", []string{"<team.lists.example.test>"}},
		{in, "inner", "From", []string{"Alice <alice@example.org>"}},
		{in, "inner", "Subject", []string{"Plans"}},
		{in, "inner", "Date", []string{"Tue, 24 Nov 2026 09:10:00 +0100"}},
		{in, "inner", "Message-ID", []string{"<m1@example.org>"}},
		{in, "inner", "User-Agent", []string{"Mailer 2"}},
		{in, "inner", "List-Id", nil},
		{in, "inner", "HP-Outer", []string{"Subject: ...", "From: team@lists.example.test", "To: team@lists.example.test",
			"Message-ID: <abc@lists.example.test>"}},
	}
	for _, tc := range tests {
		if got := tc.msg.Values(tc.name); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s %s = %q, want %q", tc.where, tc.name, got, tc.want)
		}
	}
}
