package mta

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"cloister/internal/smtpsink"
)

// fate is what a test wants of one transaction: its recipients by outcome,
// and whether SendTxn returns an error (the session is lost).
type fate struct {
	accepted, temp, perm []string
	err                  bool
}

// check compares a result with the fate.
func (f fate) check(t *testing.T, i int, res Result, err error) {
	t.Helper()
	keys := func(m map[string]string) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	acc := slices.Clone(res.Accepted)
	sort.Strings(acc)
	if !slices.Equal(acc, f.accepted) || !slices.Equal(keys(res.Temp), f.temp) || !slices.Equal(keys(res.Perm), f.perm) || (err != nil) != f.err {
		t.Fatalf("transaction %d: result %+v, err %v; want %+v", i, res, err, f)
	}
}

// pipelinedTxns returns n transactions, each from its own sender with its
// own message; transaction 1 has two recipients, the others one.
func pipelinedTxns(n int) []*Txn {
	var txns []*Txn
	for i := range n {
		to := []string{fmt.Sprintf("r%d@subs.test", i)}
		if i == 1 {
			to = append(to, "r1b@subs.test")
		}
		txns = append(txns, &Txn{From: fmt.Sprintf("b%d@lists.test", i), To: to,
			Parts: []*Part{NewPart([]byte(fmt.Sprintf("Subject: copy %d\n\nbody of copy %d\n", i, i)))}})
	}
	return txns
}

// sendPipelined sends txns on s, each call naming the one after as next,
// and returns each result and error, stopping after an error.
func sendPipelined(s *Session, txns []*Txn) ([]Result, []error) {
	var results []Result
	var errs []error
	for i, tx := range txns {
		var next *Txn
		if i+1 < len(txns) {
			next = txns[i+1]
		}
		res, err := s.SendTxn(tx, next)
		results, errs = append(results, res), append(errs, err)
		if err != nil {
			break
		}
	}
	return results, errs
}

// TestSendTxnPipelined runs three transactions on a scripted server, each
// call sending the next one's envelope with its message end, with each
// kind of refusal in the middle one: every result is its own transaction's,
// the messages the server took are the accepted ones, and under PIPELINING
// (without CHUNKING) the envelopes after the first came with the message
// before them.
func TestSendTxnPipelined(t *testing.T) {
	ok := func(rcpts ...string) fate { return fate{accepted: rcpts} }
	cases := []struct {
		name  string
		sc    *script
		fates []fate
		taken []int // the transactions whose message the server took
		early int   // messages followed by the next envelope, under PIPELINING alone
	}{
		{"accepted", &script{}, []fate{ok("r0@subs.test"), ok("r1@subs.test", "r1b@subs.test"), ok("r2@subs.test")}, []int{0, 1, 2}, 2},
		{"one RCPT refused", &script{rcpt: map[string]int{"r1b@subs.test": 550}},
			[]fate{ok("r0@subs.test"), {accepted: []string{"r1@subs.test"}, perm: []string{"r1b@subs.test"}}, ok("r2@subs.test")}, []int{0, 1, 2}, 2},
		{"one RCPT deferred", &script{rcpt: map[string]int{"r1@subs.test": 451}},
			[]fate{ok("r0@subs.test"), {accepted: []string{"r1b@subs.test"}, temp: []string{"r1@subs.test"}}, ok("r2@subs.test")}, []int{0, 1, 2}, 2},
		{"every RCPT refused", &script{rcpt: map[string]int{"r1@subs.test": 550, "r1b@subs.test": 550}},
			[]fate{ok("r0@subs.test"), {perm: []string{"r1@subs.test", "r1b@subs.test"}}, ok("r2@subs.test")}, []int{0, 2}, 1},
		{"MAIL refused", &script{mailFrom: map[string]int{"b1@lists.test": 550}},
			[]fate{ok("r0@subs.test"), {perm: []string{"r1@subs.test", "r1b@subs.test"}}, ok("r2@subs.test")}, []int{0, 2}, 1},
		{"MAIL deferred", &script{mailFrom: map[string]int{"b1@lists.test": 451}},
			[]fate{ok("r0@subs.test"), {temp: []string{"r1@subs.test", "r1b@subs.test"}, err: true}}, []int{0}, 1},
		{"message refused", &script{finalTo: map[string]int{"r1@subs.test": 554}},
			[]fate{ok("r0@subs.test"), {perm: []string{"r1@subs.test", "r1b@subs.test"}}, ok("r2@subs.test")}, []int{0, 2}, 2},
		{"message deferred", &script{finalTo: map[string]int{"r1@subs.test": 452}},
			[]fate{ok("r0@subs.test"), {temp: []string{"r1@subs.test", "r1b@subs.test"}}, ok("r2@subs.test")}, []int{0, 2}, 2},
		{"first message refused", &script{finalTo: map[string]int{"r0@subs.test": 554}},
			[]fate{{perm: []string{"r0@subs.test"}}, ok("r1@subs.test", "r1b@subs.test"), ok("r2@subs.test")}, []int{1, 2}, 2},
		{"connection lost at the next RCPT", &script{dropAt: "RCPT TO:<r1b@"},
			[]fate{ok("r0@subs.test"), {temp: []string{"r1@subs.test", "r1b@subs.test"}, err: true}}, []int{0}, 1},
	}
	for _, c := range cases {
		for _, ext := range [][]string{{"PIPELINING"}, {"PIPELINING", "CHUNKING"}, nil} {
			t.Run(fmt.Sprintf("%s/%v", c.name, ext), func(t *testing.T) {
				sc := c.sc
				sc = &script{ext: ext, rcpt: sc.rcpt, mailFrom: sc.mailFrom, finalTo: sc.finalTo, dropAt: sc.dropAt}
				s, err := (&Client{Addr: sc.serve(t), Helo: "lists.test"}).Open(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				txns := pipelinedTxns(3)
				results, errs := sendPipelined(s, txns)
				if len(results) != len(c.fates) {
					t.Fatalf("%d transactions sent, want %d (errors %v)", len(results), len(c.fates), errs)
				}
				for i, f := range c.fates {
					f.check(t, i, results[i], errs[i])
				}
				s.Close()
				sc.mu.Lock()
				defer sc.mu.Unlock()
				var want []string
				for _, i := range c.taken {
					want = append(want, fmt.Sprintf("Subject: copy %d\r\n\r\nbody of copy %d\r\n", i, i))
				}
				if !slices.Equal(sc.messages, want) {
					t.Fatalf("server took %q, want %q; commands %q", sc.messages, want, sc.commands)
				}
				// Each message but the last is followed by the next envelope in
				// the same write; not under CHUNKING or without PIPELINING.
				early := 0
				if len(ext) == 1 {
					early = c.early
				}
				if sc.early != early {
					t.Fatalf("%d messages had the next commands behind them, want %d; commands %q", sc.early, early, sc.commands)
				}
			})
		}
	}
}

// TestSendTxnPipelinedRealServer runs 20 pipelined transactions into
// go-smtp's server (internal/smtpsink) that refuses one recipient for good
// and defers another in the middle of the run: every recipient's fate is its
// own, and each accepted recipient's mailbox holds its own message once.
func TestSendTxnPipelinedRealServer(t *testing.T) {
	for _, chunking := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunking=%v", chunking), func(t *testing.T) {
			sink, err := smtpsink.Start(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			sink.SetRefuse("r1b@subs.test", 550)
			sink.SetRefuse("r9@subs.test", 550)
			sink.SetRefuse("r13@subs.test", 450)
			s, err := (&Client{Addr: sink.Addr, Helo: "lists.test", NoChunking: !chunking}).Open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !s.Pipelining() || s.Chunking() != chunking {
				t.Fatalf("pipelining %v, chunking %v: the sink offers both", s.Pipelining(), s.Chunking())
			}
			txns := pipelinedTxns(20)
			results, errs := sendPipelined(s, txns)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if len(results) != len(txns) {
				t.Fatalf("%d transactions sent: %v", len(results), errs)
			}
			for i, res := range results {
				f := fate{accepted: []string{fmt.Sprintf("r%d@subs.test", i)}}
				switch i {
				case 1:
					f.perm = []string{"r1b@subs.test"}
				case 9:
					f = fate{perm: f.accepted}
				case 13:
					f = fate{temp: f.accepted}
				}
				f.check(t, i, res, errs[i])
			}
			for i := range txns {
				rcpt := fmt.Sprintf("r%d@subs.test", i)
				box, err := sink.Mailbox(rcpt)
				if err != nil && i != 9 && i != 13 {
					t.Fatal(err)
				}
				want := 1
				if i == 9 || i == 13 {
					want = 0
				}
				if len(box) != want || want == 1 && !strings.Contains(string(box[0]), fmt.Sprintf("Subject: copy %d\n", i)) {
					t.Fatalf("%s got %d messages, want %d of its own: %q", rcpt, len(box), want, box)
				}
			}
		})
	}
}

// TestSendTxnOrder: a call for another transaction than the one announced
// as next defers its recipients and ends the session, and a session closed
// while the server waits for the announced one's message delivers nothing
// of it.
func TestSendTxnOrder(t *testing.T) {
	for _, name := range []string{"out of order", "closed"} {
		t.Run(name, func(t *testing.T) {
			sc := &script{ext: []string{"PIPELINING"}}
			s, err := (&Client{Addr: sc.serve(t), Helo: "lists.test"}).Open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			txns := pipelinedTxns(3)
			if res, err := s.SendTxn(txns[0], txns[1]); err != nil || len(res.Accepted) != 1 {
				t.Fatalf("%+v %v", res, err)
			}
			if name == "out of order" {
				res, err := s.SendTxn(txns[2], nil)
				(fate{temp: []string{"r2@subs.test"}, err: true}).check(t, 2, res, err)
			}
			if err := s.Close(); err != nil && name == "closed" {
				t.Fatal(err)
			}
			sc.mu.Lock()
			defer sc.mu.Unlock()
			if len(sc.messages) != 1 {
				t.Fatalf("server took %d messages, want the first only: %q", len(sc.messages), sc.messages)
			}
			if !slices.Contains(sc.commands, "MAIL FROM:<b1@lists.test>") {
				t.Fatalf("the next envelope was not sent: %q", sc.commands)
			}
		})
	}
}
