package handlers

import (
	"os"
	"strings"
	"testing"

	"cloister/mailmsg"
)

// benchPipeline runs the default pipeline over raw with the given settings.
func benchPipeline(b *testing.B, raw []byte, settings string) {
	ctx := newTestContext(b, raw, caseConfig{Settings: []byte(settings), DNS: map[string][]string{"_dmarc.example.org": {"v=DMARC1; p=reject"}}})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		msg, err := mailmsg.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		ctx.Msg = msg
		if _, err := Run(DefaultPipeline(), ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// A 10 KB plain post through the default pipeline with a footer.
func BenchmarkPipelinePlain10K(b *testing.B) {
	raw, err := os.ReadFile("testdata/footer/plain-7bit.eml")
	if err != nil {
		b.Fatal(err)
	}
	raw = append(raw, strings.Repeat("a line of text in the body of the post\n", 250)...)
	benchPipeline(b, raw, `{"footer": "Team list -- team@lists.example.test"}`)
}

// Every handler on: anonymous, strip-signature, content-filter (an HTML
// alternative and an attachment removed), DMARC munging, footer.
func BenchmarkPipelineEverything(b *testing.B) {
	raw, err := os.ReadFile("testdata/content-filter/nested.eml")
	if err != nil {
		b.Fatal(err)
	}
	benchPipeline(b, raw, `{"footer": "f", "anonymous": true, "strip_original_signature": true, "content_filter": "text/plain image/*", "dmarc_mitigation": "munge_from", "reply_to": "list"}`)
}

// A signed post: the handlers only check it and edit header fields.
func BenchmarkPipelineSigned(b *testing.B) {
	raw, err := os.ReadFile("testdata/footer/pgp-mime-signed.eml")
	if err != nil {
		b.Fatal(err)
	}
	benchPipeline(b, raw, `{"footer": "f", "content_filter": "text/plain"}`)
}
