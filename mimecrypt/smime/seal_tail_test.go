package smime

import (
	"bytes"
	"sync"
	"testing"

	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt/cms"
)

// TestSealTailsOnDemand: copies to recipients whose RecipientInfos leave
// the shared tail at one alignment make only that alignment's encoding;
// copies made at once on several goroutines are all the same; AppendFor
// puts the copy behind the caller's header fields, as header + For.
func TestSealTailsOnDemand(t *testing.T) {
	p := thePKI(t)
	post := append([]byte(postEntity), bytes.Repeat([]byte("a line of the post, 32 bytes...\r\n"), 10000)...)
	sealed, err := Seal(post, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alice := p.m["alice"].cert
	if _, err := sealed.For(alice); err != nil {
		t.Fatal(err)
	}
	made := 0
	for _, tl := range sealed.tail64 {
		if tl != nil {
			made++
		}
	}
	if made != 1 {
		t.Fatalf("%d tail encodings made for one recipient", made)
	}
	var wg sync.WaitGroup
	who := []*member{p.m["alice"], p.m["erin"]}
	outs := make([][]byte, 8)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], _ = sealed.For(who[i%2].cert)
		}()
	}
	wg.Wait()
	for i, out := range outs {
		e, err := rawmime.Parse(out)
		if err != nil {
			t.Fatalf("copy %d: %v", i, err)
		}
		der, err := decodeBody(e)
		if err != nil {
			t.Fatalf("copy %d: %v", i, err)
		}
		if d, err := cms.Decrypt(der, who[i%2].cert, who[i%2].key); err != nil || !bytes.Equal(d.Content, rawmime.Canonical(post)) {
			t.Fatalf("copy %d does not decrypt to the post: %v", i, err)
		}
	}
	header := []byte("From: team@lists.test\r\nTo: alice@example.test\r\n")
	got, err := sealed.AppendFor(header[:len(header):len(header)], alice)
	if err != nil {
		t.Fatal(err)
	}
	e, err := rawmime.Parse(got[len(header):])
	if !bytes.HasPrefix(got, header) || err != nil || cap(got) != len(got) {
		t.Fatalf("AppendFor: %d bytes in %d, not header + For: %v", len(got), cap(got), err)
	}
	der, err := decodeBody(e)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := cms.Decrypt(der, alice, p.m["alice"].key); err != nil || !bytes.Equal(d.Content, rawmime.Canonical(post)) {
		t.Fatalf("AppendFor's copy does not decrypt to the post: %v", err)
	}
}
