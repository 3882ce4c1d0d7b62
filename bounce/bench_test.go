package bounce

import (
	"os"
	"testing"
)

// BenchmarkParsePostfix: one Postfix DSN.
func BenchmarkParsePostfix(b *testing.B) {
	raw, err := os.ReadFile("testdata/postfix-failed.eml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseQmail: a text bounce, read after the DSN attempt fails.
func BenchmarkParseQmail(b *testing.B) {
	raw, err := os.ReadFile("testdata/qmail.eml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}
