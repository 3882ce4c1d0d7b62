package lists

import (
	"fmt"
	"testing"
)

// BenchmarkView measures one read-only unit of work: lock, open, look up a
// member, close.
func BenchmarkView(b *testing.B) {
	s := &Store{Path: benchStore(b, 1000)}
	for i := 0; b.Loop(); i++ {
		err := s.View(func(tx *Tx) error {
			_, err := tx.IsSubscriber(sharedList, fmt.Sprintf("user%05d@subs.test", i%1000))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate measures one committed unit of work (with bbolt's fsyncs):
// lock, open, add a member, commit, close.
func BenchmarkUpdate(b *testing.B) {
	s := &Store{Path: benchStore(b, 0)}
	for i := 0; b.Loop(); i++ {
		err := s.Update(func(tx *Tx) error {
			return tx.AddMember(sharedList, &Member{Address: fmt.Sprintf("new%07d@subs.test", i)})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForEachMember10k measures streaming a 10,000-member roster in
// one View, as the outgoing runner does for each post.
func BenchmarkForEachMember10k(b *testing.B) {
	s := &Store{Path: benchStore(b, 10000)}
	for b.Loop() {
		n := 0
		err := s.View(func(tx *Tx) error {
			return tx.ForEachMember(sharedList, func(m *Member) error {
				if m.Receives() {
					n++
				}
				return nil
			})
		})
		if err != nil || n != 10000 {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "members/s")
}

// benchStore makes a database holding sharedList with n members.
func benchStore(b *testing.B, n int) string {
	b.Helper()
	s, err := Open(b.TempDir() + "/cloister.db")
	if err != nil {
		b.Fatal(err)
	}
	err = s.Update(func(tx *Tx) error {
		l, err := NewList(sharedList, tx.Now())
		if err != nil {
			return err
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for i := range n {
			if err := tx.AddMember(sharedList, &Member{Address: fmt.Sprintf("user%05d@subs.test", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s.Path
}
