package handlers

import (
	"strings"
	"testing"

	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

// TestHeadersToMeta: the pseudo-headers the setting names, in a first part,
// one line each; the post follows byte for byte; anonymous lists show no
// From and no signer; nothing is added when the setting is empty.
func TestHeadersToMeta(t *testing.T) {
	const post = "From: =?utf-8?q?Bob=0D=0ASig=3A_Good_signature_from_EVIL?= <bob@example.org>\nTo: team@lists.example.test\n" +
		"Cc: a@example.org\nCc: b@example.org\nDate: Tue, 01 Dec 2026 10:00:00 +0100\nSubject: hi\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; micalg=pgp-sha256; boundary=s\n\n" +
		"--s\nContent-Type: text/plain\n\nsigned text\n--s\nContent-Type: application/pgp-signature\n\nSIG\n--s--\n"
	good := &queue.Meta{Encryption: "pgp-mime", Verdict: "good", SignerFpr: "8A1F3C", SignerAddresses: []string{"bob@example.org"}}
	for _, tc := range []struct {
		name     string
		settings string
		meta     *queue.Meta
		want     []string // lines of the first part; nil: nothing added
		absent   []string
	}{
		{name: "off", settings: `{}`, meta: good},
		{name: "all", settings: `{"headers_to_meta": "from to cc date sig enc"}`, meta: good, want: []string{
			"From: Bob Sig: Good signature from EVIL <bob@example.org>",
			"To: team@lists.example.test",
			"Cc: a@example.org, b@example.org",
			"Date: Tue, 01 Dec 2026 10:00:00 +0100",
			"Sig: Good signature from 8A1F3C (bob@example.org)",
			"Enc: Encrypted (OpenPGP/MIME)",
		}},
		{name: "sig and enc of a clear unsigned post", settings: `{"headers_to_meta": "sig enc"}`, meta: &queue.Meta{Encryption: "none", Verdict: "none"},
			want: []string{"Sig: Unsigned", "Enc: Unencrypted"}},
		{name: "unknown key", settings: `{"headers_to_meta": "sig"}`, meta: &queue.Meta{Encryption: "smime", Verdict: "unknown-key", SignerFpr: "77AB"},
			want: []string{"Sig: Signature by an unknown key 77AB"}},
		{name: "mismatch", settings: `{"headers_to_meta": "sig"}`, meta: &queue.Meta{Verdict: "signer-mismatch", SignerFpr: "99", SignerAddresses: []string{"eve@example.net"}},
			want: []string{"Sig: Good signature from 99 (eve@example.net), which is not the From address"}},
		{name: "anonymous", settings: `{"headers_to_meta": "from sig enc", "anonymous": true}`, meta: good,
			want: []string{"Sig: Good signature from", "Enc: Encrypted (OpenPGP/MIME)"}, absent: []string{"bob@", "8A1F3C", "From:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := newTestContext(t, []byte(post), caseConfig{Settings: []byte(tc.settings), Meta: tc.meta})
			before := string(ctx.Msg.Body)
			if err := (HeadersToMeta{}).Process(ctx); err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if string(ctx.Msg.Body) != before {
					t.Fatalf("the post changed:\n%s", ctx.Msg.Bytes())
				}
				return
			}
			ent, err := rawmime.Parse(ctx.Msg.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			mt, params, _ := ent.MediaType()
			if mt != "multipart/mixed" {
				t.Fatalf("top type %s", mt)
			}
			parts, err := rawmime.SplitMultipart(ent.Body, params["boundary"], 10)
			if err != nil || len(parts) != 2 {
				t.Fatalf("parts: %d, %v", len(parts), err)
			}
			meta, _ := rawmime.Parse(parts[0])
			lines := strings.Split(strings.TrimRight(string(meta.Body), "\n"), "\n")
			if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("pseudo-headers:\n%s\nwant:\n%s", meta.Body, strings.Join(tc.want, "\n"))
			}
			for _, a := range tc.absent {
				if strings.Contains(string(meta.Body), a) {
					t.Errorf("the part shows %q", a)
				}
			}
			// The original content, its Content-Type first, byte for byte.
			if !strings.HasSuffix(string(parts[1]), before) || !strings.HasPrefix(string(parts[1]), "Content-Type: multipart/signed;") {
				t.Fatalf("second part:\n%s", parts[1])
			}
		})
	}
}
