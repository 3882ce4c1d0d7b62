package rules

import (
	"strings"
	"testing"

	"cloister/queue"
)

// BenchmarkRunChain measures the posting chain over one ordinary post with
// banned-address and suspicious-header patterns configured.
func BenchmarkRunChain(b *testing.B) {
	raw := okPost + strings.Repeat("a line of an ordinary post body\n", 100)
	p := testPost(b, raw, queue.Meta{Sender: "bob@example.net", Verdict: "none", Encryption: "none", Auth: "smtp"},
		map[string]string{"banned_addresses": `.*@spam\.example x@y\.z`, "suspicious_headers": `X-Mailer:mass X-Spam-Flag:^yes$`})
	b.ReportAllocs()
	for b.Loop() {
		hits, _, _ := RunChain(PostingChain, p)
		if len(hits) != 0 {
			b.Fatalf("hits %v", hits)
		}
	}
}
