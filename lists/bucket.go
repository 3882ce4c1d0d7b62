package lists

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// putJSON stores v encoded as JSON under key.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// deleteWhere deletes every key whose value satisfies match.
func deleteWhere(b *bolt.Bucket, match func(v []byte) bool) error {
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if v != nil && match(v) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// recordList returns the "list" field of a stored held post or token.
func recordList(v []byte) string {
	var r struct {
		List string `json:"list"`
	}
	if json.Unmarshal(v, &r) != nil {
		return ""
	}
	return r.List
}
