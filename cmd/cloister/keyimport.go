package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/keyring"
	"cloister/service"
)

// maxBulkFile bounds one file of a bulk key import.
const maxBulkFile = 512 << 20

// importSubscriberKeys is `cloister key import FILE|DIR`: every public key
// of an exported keyring (binary or armored, many keys) or of every file of
// a folder, added in one process and one keyring transaction, each bound to
// the addresses of its user IDs that are members of a list on the site
// (keyring.ImportOpenPGPKeys says which are not bound, and why).
func (a *app) importSubscriberKeys(cmd *cobra.Command, path string) error {
	files, err := keyFiles(path)
	if err != nil {
		return err
	}
	var keys openpgp.EntityList
	for _, f := range files {
		el, err := readKeysFrom(f)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		keys = append(keys, el...)
		if len(keys) > keyring.MaxBulkKeys {
			return fmt.Errorf("more than %d keys", keyring.MaxBulkKeys)
		}
	}
	api, actor, err := a.services(cmd)
	if err != nil {
		return err
	}
	res, err := api.KeyBulkImport(cmd.Context(), actor, service.KeyBulkImportRequest{Keys: keys})
	if err != nil && res == nil {
		return cliError(err)
	}
	out := cmd.OutOrStdout()
	bound, addrs, refused, unbound := 0, 0, 0, 0
	for _, r := range res {
		switch {
		case r.Err != nil:
			refused++
			fmt.Fprintf(out, "%s: refused: %v\n", r.Fingerprint, r.Err)
			continue
		case len(r.Bound) > 0:
			bound++
			addrs += len(r.Bound)
			fmt.Fprintf(out, "%s: bound to %s\n", r.Fingerprint, strings.Join(r.Bound, ", "))
		}
		not := make([]string, 0, len(r.NotBound))
		for a := range r.NotBound {
			not = append(not, a)
		}
		sort.Strings(not)
		for _, a := range not {
			unbound++
			fmt.Fprintf(out, "%s: not bound to %s: %s\n", r.Fingerprint, a, r.NotBound[a])
		}
	}
	fmt.Fprintf(out, "%d keys read from %d files (%d distinct): %d stored, bound to %d addresses; %d refused; %d user-ID addresses not bound\n",
		len(keys), len(files), len(res), bound, addrs, refused, unbound)
	if err != nil {
		return cliError(err)
	}
	return nil
}

// keyFiles returns path, or the regular files of the folder path (not its
// subfolders), sorted.
func keyFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(path, e.Name()))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no key files in the folder", path)
	}
	return out, nil
}

// readKeysFrom reads every key of one file, bounded.
func readKeysFrom(path string) (openpgp.EntityList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxBulkFile {
		return nil, fmt.Errorf("larger than %d MiB", maxBulkFile>>20)
	}
	return keyring.ReadOpenPGPKeys(io.LimitReader(f, maxBulkFile))
}
