package runners

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/lists"
	"cloister/queue"
)

// BenchmarkPlaintextFanout10k: one plaintext post to a 10,000-member list
// through the pipeline and outgoing runners into an in-process SMTP sink, at
// batch_size 1 (one transaction per member) and 100.
func BenchmarkPlaintextFanout10k(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			s := newTestSite(b)
			s.sink.Discard = true
			err := s.Lists.Update(func(tx *lists.Tx) error {
				l, err := tx.List("team@lists.test")
				if err != nil {
					return err
				}
				l.Settings.BatchSize = batch
				if err := tx.PutList(l); err != nil {
					return err
				}
				for i := 0; i < 10000; i++ {
					if err := tx.AddMember(l.Address, &lists.Member{Address: fmt.Sprintf("member%05d@subs.test", i)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			body := "From: bob@subs.test\nSubject: bench\n\n" + strings.Repeat("a line of a plaintext post\n", 400)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubPost, Sender: "bob@subs.test", From: "bob@subs.test", Received: time.Now().UTC()}
				if _, err := s.Queue(queue.Pipeline).Enqueue(m, strings.NewReader(body), 0); err != nil {
					b.Fatal(err)
				}
				for _, r := range []Runner{Pipeline{}, Outgoing{}} {
					l := &Loop{Site: s.Site, Runner: r, Slice: queue.All, Once: true}
					if err := l.Run(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			}
			el := time.Since(start)
			if got := s.sink.Delivered.Load(); got != int64(b.N)*10003 {
				b.Fatalf("sink got %d recipients, want %d", got, int64(b.N)*10003)
			}
			b.ReportMetric(float64(b.N)*10003/el.Seconds(), "recipients/s")
		})
	}
}

// BenchmarkEncryptedFanout10k: a 50 KB post that arrived encrypted, signed
// once by the list and encrypted for 10,000 Curve25519 subscribers (one copy
// each, carrying only that subscriber's key packet), through the pipeline
// and outgoing runners into a discarding SMTP sink.
func BenchmarkEncryptedFanout10k(b *testing.B) {
	s := newTestSite(b)
	s.sink.Discard = true
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}
	listKey, err := openpgp.NewEntity("team", "", "team@lists.test", cfg)
	if err != nil {
		b.Fatal(err)
	}
	keys := &memKeys{list: openpgp.EntityList{listKey}, subs: map[string]*openpgp.Entity{}}
	const n = 10000
	err = s.Lists.Update(func(tx *lists.Tx) error {
		for i := 0; i < n; i++ {
			addr := fmt.Sprintf("member%05d@subs.test", i)
			e, err := openpgp.NewEntity("m", "", addr, cfg)
			if err != nil {
				return err
			}
			keys.subs[addr] = e
			if err := tx.AddMember("team@lists.test", &lists.Member{Address: addr}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Keys = keys
	body := "From: bob@subs.test\nSubject: bench\nContent-Type: text/plain\n\n" + strings.Repeat("a line of an encrypted post, fifty bytes long....\n", 1000)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		queueDecryptedPost(b, s, body, i)
		runPipelineOutgoing(b, s)
	}
	el := time.Since(start)
	if got := s.sink.Delivered.Load(); got != int64(b.N)*(n+3) {
		b.Fatalf("sink got %d recipients, want %d", got, int64(b.N)*(n+3))
	}
	b.ReportMetric(float64(b.N)*(n+3)/el.Seconds(), "recipients/s")
	b.ReportMetric(el.Seconds()/float64(b.N), "s/post")
}

// BenchmarkLargePostMemory: a 25 MB post that arrived encrypted (a base64
// attachment of random bytes, which does not compress), signed by the list
// and encrypted for 1,000 subscribers with keys of four kinds (Curve25519,
// RSA-2048, -3072, -4096: four alignments of the key packets), through the
// pipeline and outgoing runners into a discarding SMTP sink. It reports the
// peak of the Go heap in use above what it was before the post, sampled
// every millisecond, as MB and as a multiple of the post's size (the goal
// is under 4x, whatever the number of subscribers).
func BenchmarkLargePostMemory(b *testing.B) {
	s := newTestSite(b)
	s.sink.Discard = true
	listKey, err := openpgp.NewEntity("team", "", "team@lists.test", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		b.Fatal(err)
	}
	kinds := []*packet.Config{
		{Algorithm: packet.PubKeyAlgoEdDSA},
		{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048},
		{Algorithm: packet.PubKeyAlgoRSA, RSABits: 3072},
		{Algorithm: packet.PubKeyAlgoRSA, RSABits: 4096},
	}
	var protos []*openpgp.Entity // one key of each kind, shared: key making is not what is measured
	for _, cfg := range kinds {
		e, err := openpgp.NewEntity("m", "", "proto@subs.test", cfg)
		if err != nil {
			b.Fatal(err)
		}
		protos = append(protos, e)
	}
	keys := &memKeys{list: openpgp.EntityList{listKey}, subs: map[string]*openpgp.Entity{}}
	const n = 1000
	err = s.Lists.Update(func(tx *lists.Tx) error {
		for i := 0; i < n; i++ {
			addr := fmt.Sprintf("member%05d@subs.test", i)
			keys.subs[addr] = protos[i%len(protos)]
			if err := tx.AddMember("team@lists.test", &lists.Member{Address: addr}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Keys = keys
	raw := make([]byte, 18<<20)
	rand.Read(raw)
	body := "From: bob@subs.test\nSubject: bench\nMIME-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" +
		base64.StdEncoding.EncodeToString(raw)
	raw = nil
	var peak, base uint64
	for b.Loop() {
		queueDecryptedPost(b, s, body, int(peak))
		runtime.GC()
		base = heapInUse()
		stop := make(chan struct{})
		done := make(chan uint64)
		go func() {
			var max uint64
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				if h := heapInUse(); h > max {
					max = h
				}
				select {
				case <-stop:
					done <- max
					return
				case <-t.C:
				}
			}
		}()
		runPipelineOutgoing(b, s)
		close(stop)
		if p := <-done - base; p > peak {
			peak = p
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peak)/float64(len(body)), "x-post")
}

// heapInUse is the bytes of heap spans in use.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// queueDecryptedPost hands the pipeline what the incoming and rules runners
// leave of a signed post that arrived encrypted from bob: the plaintext,
// sealed with the queue key. i makes the entry's ID.
func queueDecryptedPost(b testing.TB, s *testSite, body string, i int) {
	b.Helper()
	m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubPost, Sender: "bob@subs.test", From: "bob@subs.test",
		Encryption: "pgp-mime", Verdict: "good", Auth: "pgp", Received: time.Now().UTC()}
	m.ID = queue.NewID(m.Received, fmt.Sprintf("%040x", i))
	j := &Job{Site: s.Site, Entry: &queue.Entry{Meta: m}}
	j.Send(queue.Pipeline, m, []byte(body))
	if err := j.sealOutputs(); err != nil {
		b.Fatal(err)
	}
	if err := s.Queue(queue.Pipeline).Handover(j.outs[0].meta, j.outs[0].reader()); err != nil {
		b.Fatal(err)
	}
}

// runPipelineOutgoing runs the pipeline and outgoing runners over what
// waits in their queues.
func runPipelineOutgoing(b testing.TB, s *testSite) {
	b.Helper()
	for _, r := range []Runner{Pipeline{}, Outgoing{}} {
		l := &Loop{Site: s.Site, Runner: r, Slice: queue.All, Once: true}
		if err := l.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
