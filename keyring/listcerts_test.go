package keyring

import (
	"path/filepath"
	"testing"
)

func TestListCertifications(t *testing.T) {
	k, err := Open(filepath.Join(t.TempDir(), "keyring.db"), []byte("pass"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.ListCertifications("team@l.test"); err != nil || len(got) != 0 {
		t.Fatalf("empty keyring: %v %v", got, err)
	}
	for _, c := range []ListCert{
		{UserID: "team <team@l.test>", Issuer: "aa", Signature: []byte{1}},
		{UserID: "team <team@l.test>", Issuer: "AA", Signature: []byte{2}}, // replaces the first
		{UserID: "team <team@l.test>", Issuer: "bb", Signature: []byte{3}},
	} {
		if err := k.AddListCertification("Team@L.test", c); err != nil {
			t.Fatal(err)
		}
	}
	k.AddListCertification("other@l.test", ListCert{Issuer: "cc", Signature: []byte{4}})
	got, err := k.ListCertifications("team@l.test")
	if err != nil || len(got) != 2 || got[0].Signature[0] != 2 || got[1].Signature[0] != 3 {
		t.Fatalf("certifications = %+v, %v", got, err)
	}
}
