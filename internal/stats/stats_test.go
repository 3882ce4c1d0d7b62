package stats

import (
	"testing"
	"time"
)

func TestCountersPerRunner(t *testing.T) {
	Add("outgoing", `smtp_recipients_total{result="accepted"}`, 3)
	Add("outgoing", `smtp_recipients_total{result="accepted"}`, 2)
	Add("incoming", `smtp_recipients_total{result="accepted"}`, 7)
	Time("incoming", `op="open",tech="pgp"`, time.Now().Add(-time.Millisecond))
	out := Snapshot("outgoing")
	if out[`smtp_recipients_total{result="accepted"}`] != 5 || len(out) != 1 {
		t.Fatalf("outgoing = %v", out)
	}
	in := Snapshot("incoming")
	if in[`crypto_operations_total{op="open",tech="pgp"}`] != 1 || in[`crypto_microseconds_total{op="open",tech="pgp"}`] < 1000 {
		t.Fatalf("incoming = %v", in)
	}
	if k := Keys(in); len(k) != 3 || k[0] > k[1] {
		t.Fatalf("keys = %v", k)
	}
}
