package keyring

import (
	"testing"
)

// productionSealCost is sealCost as the package initialized it, before
// TestMain lowers it for the tests.
var productionSealCost = sealCost

// testSealCost is the cost the tests seal at: the least that open accepts.
var testSealCost = argonCost{time: 1, memory: 8 * 1024, threads: 1}

// TestProductionSealCost checks that production seals at t=2, 64 MiB and 2
// lanes (what doc.go promises), and that a list key generated at that cost
// stores it in its record and unlocks again, while the other tests run at
// testSealCost.
func TestProductionSealCost(t *testing.T) {
	want := argonCost{time: 2, memory: 64 * 1024, threads: 2}
	if productionSealCost != want {
		t.Fatalf("production seal cost %+v, want %+v", productionSealCost, want)
	}
	if sealCost != testSealCost {
		t.Fatalf("tests seal at %+v, want the lowered %+v (TestMain)", sealCost, testSealCost)
	}
	// Not parallel: no other test runs while the cost is the production one.
	sealCost = productionSealCost
	t.Cleanup(func() { sealCost = testSealCost })
	k := newKeyring(t)
	if _, err := k.GenerateOpenPGP("team@lists.test", "", ""); err != nil {
		t.Fatal(err)
	}
	s, err := k.current()
	if err != nil {
		t.Fatal(err)
	}
	rec := s.lists[listKey(KindPGP, "team@lists.test")]
	if rec == nil || rec.Secret == nil {
		t.Fatal("no sealed list key stored")
	}
	got := argonCost{rec.Secret.Time, rec.Secret.Memory, rec.Secret.Threads}
	if got != want {
		t.Fatalf("stored record sealed at %+v, want %+v", got, want)
	}
	fresh, err := Open(k.Path(), testPassphrase, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.ListKeyPGP("team@lists.test"); err != nil {
		t.Fatalf("unlock at the production cost: %v", err)
	}
}
