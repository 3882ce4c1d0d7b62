// Command keygen writes, for bench/keyimport.sh, n Curve25519 OpenPGP
// public keys (user IDs sNNNNN@subs.test) to one binary keyring file and
// the members' CSV (one address a line) for `cloister member import`.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

func main() {
	n := flag.Int("n", 10000, "keys")
	keys := flag.String("keys", "keys.gpg", "keyring file to write")
	csv := flag.String("csv", "members.csv", "members file to write")
	flag.Parse()
	pubs := make([][]byte, *n)
	next := make(chan int, *n)
	for i := range *n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
			for i := range next {
				e, err := openpgp.NewEntity("Subscriber", "", member(i), cfg)
				check(err)
				w := &byteWriter{}
				check(e.Serialize(w))
				pubs[i] = w.b
			}
		}()
	}
	wg.Wait()
	kf, err := os.Create(*keys)
	check(err)
	cf, err := os.Create(*csv)
	check(err)
	kw, cw := bufio.NewWriter(kf), bufio.NewWriter(cf)
	for i, p := range pubs {
		kw.Write(p)
		fmt.Fprintln(cw, member(i))
	}
	check(kw.Flush())
	check(cw.Flush())
	check(kf.Close())
	check(cf.Close())
}

type byteWriter struct{ b []byte }

func (w *byteWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func member(i int) string { return fmt.Sprintf("s%05d@subs.test", i) }

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "keygen: %v\n", err)
		os.Exit(1)
	}
}
