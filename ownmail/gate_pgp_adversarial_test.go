package ownmail

import (
	"bytes"
	"errors"
	"testing"
)

// TestGatePGPCrafted: PGP/MIME copies crafted around a good one, each
// holding the post's text somewhere outside the encryption, are refused by
// a Gate that has passed the good copy; the good copy with LF line ends
// passes.
func TestGatePGPCrafted(t *testing.T) {
	const marker = "PGP-GATE-CRAFTED-PLAINTEXT"
	good, g, m := pgpCopy(t, marker)
	if bytes.Contains(good, []byte(marker)) {
		t.Fatal("the good copy holds the text in the clear")
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("no %q in the copy", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	endArmor := "\r\n-----END PGP MESSAGE-----"
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"as For writes it", good, true},
		{"LF line ends", bytes.ReplaceAll(good, []byte("\r\n"), []byte("\n")), true},
		{"an armor comment", replace("-----BEGIN PGP MESSAGE-----\r\n", "-----BEGIN PGP MESSAGE-----\r\nComment: "+marker+"\r\n"), false},
		{"a text line before the armor's end", replace(endArmor, "\r\n"+marker+endArmor), false},
		{"a base64-like line before the armor's end", replace(endArmor, "\r\nQUJDQUJD"+endArmor), false},
		{"text after the armor's end", replace(endArmor, endArmor+"\r\n"+marker), false},
		{"a second armor block", replace(endArmor, endArmor+"\r\n-----BEGIN PGP MESSAGE-----\r\n\r\n"+marker+endArmor), false},
		{"the armor's end twice", replace(endArmor, endArmor+"\r\n"+marker+endArmor), false},
	}
	for _, tc := range tests {
		err := checkBoth(t, g, m, tc.data, []string{"ann@subs.test"})
		if tc.ok && err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: passes: %v", tc.name, err)
		}
	}
}
