package api

import (
	"bytes"
	"net/http"

	"cloister/keyring"
	"cloister/service"
)

// The list keys, the keyring and the site's chores, for an operator
// managing a remote site: what the CLI does on the server, with the bytes
// of a file sent in the request instead of its path.

// ListKeyGenerateBody makes a list key of a kind (openpgp, smime, archive).
type ListKeyGenerateBody struct {
	Kind string `json:"kind,omitempty"`
	// RSABits asks for RSA (3072 or 4096) instead of Curve25519.
	RSABits int `json:"rsa_bits,omitempty"`
	// Name is the name in the OpenPGP user ID.
	Name string `json:"name,omitempty"`
}

// ListKeyImportBody imports a list's secret key: an OpenPGP secret key
// (kind openpgp) or a PKCS#12 bundle or PEM certificate and key (smime),
// base64 in JSON; Password unlocks it and is never recorded.
type ListKeyImportBody struct {
	Kind     string `json:"kind"`
	Key      []byte `json:"key"`
	Password string `json:"password,omitempty"`
}

// RekeyBody re-seals every list key under a new keyring passphrase.
type RekeyBody struct {
	Passphrase string `json:"passphrase"`
}

// Rekeyed says how many list keys were re-sealed.
type Rekeyed struct {
	Keys int `json:"keys"`
}

// BulkKeyResult is what a bulk import did with one distinct key.
type BulkKeyResult struct {
	Fingerprint string            `json:"fingerprint"`
	Bound       []string          `json:"bound,omitempty"`
	NotBound    map[string]string `json:"not_bound,omitempty"`
	Error       string            `json:"error,omitempty"`
}

// KeyRequestDecideBody approves (binds the key) or refuses a key request.
type KeyRequestDecideBody struct {
	Approve bool `json:"approve"`
}

// Decided says what a decision did.
type Decided struct {
	Text string `json:"text"`
}

// Sent counts the notices a chore queued.
type Sent struct {
	Sent int `json:"sent"`
}

// SubscribeBody starts the subscription of an address, which confirms it by
// mail.
type SubscribeBody struct {
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
}

func choreRoutes() []Route {
	return []Route{
		op(http.MethodPost, "/v1/lists/{list}/listkeys", "listKeyGenerate", "Make a list key (kind openpgp, smime or archive); the secret stays on the server", ScopeAdmin,
			func(c *Call, b ListKeyGenerateBody) (service.ListKeyResult, error) {
				return c.Svc.ListKeyGenerate(c.Ctx, c.Actor, service.ListKeyGenerateRequest{List: c.Path("list"), Kind: b.Kind, RSABits: b.RSABits, Name: b.Name})
			}).created().optional(),
		op(http.MethodPost, "/v1/lists/{list}/listkeys/import", "listKeyImport", "Import a list's secret key (kind openpgp or smime), sent base64 in the body", ScopeAdmin,
			func(c *Call, b ListKeyImportBody) (service.ListKeyResult, error) {
				return c.Svc.ListKeyImport(c.Ctx, c.Actor, service.ListKeyImportRequest{List: c.Path("list"), Kind: b.Kind, Key: b.Key, Password: b.Password})
			}),
		op(http.MethodDelete, "/v1/lists/{list}/listkeys/{fingerprint}", "listKeyRevoke", "Revoke the list's OpenPGP key or remove its certificate of this fingerprint (its last 16 hex digits at least)", ScopeAdmin,
			func(c *Call, _ none) (service.ListKeyResult, error) {
				return c.Svc.ListKeyRevoke(c.Ctx, c.Actor, service.ListKeyRevokeRequest{List: c.Path("list"), Fingerprint: c.Path("fingerprint")})
			}),
		op(http.MethodPost, "/v1/keyring/rekey", "keyringRekey", "Re-seal every list key under a new keyring passphrase (never recorded)", ScopeAdmin,
			func(c *Call, b RekeyBody) (Rekeyed, error) {
				n, err := c.Svc.KeyringRekey(c.Ctx, c.Actor, service.RekeyRequest{Passphrase: []byte(b.Passphrase)})
				return Rekeyed{Keys: n}, err
			}),
		rawOp(http.MethodPost, "/v1/keys/import", "keyBulkImport", "Add many subscribers' public keys (an exported keyring, armored or binary), each bound to its user IDs' addresses that are members of a list", ScopeAdmin,
			[]string{"application/pgp-keys", "application/octet-stream"},
			func(c *Call, body []byte) ([]BulkKeyResult, error) {
				if !c.Actor.SiteAdmin() {
					// Refused before the keys are parsed (the service refuses it too).
					return nil, apiError("forbidden", "this token's scopes do not allow key.import")
				}
				keys, err := keyring.ReadOpenPGPKeys(bytes.NewReader(body))
				if err != nil {
					return nil, apiError("invalid", "the keys cannot be read: "+err.Error())
				}
				res, err := c.Svc.KeyBulkImport(c.Ctx, c.Actor, service.KeyBulkImportRequest{Keys: keys})
				out := make([]BulkKeyResult, len(res))
				for i, r := range res {
					out[i] = BulkKeyResult{Fingerprint: r.Fingerprint, Bound: r.Bound, NotBound: r.NotBound}
					if r.Err != nil {
						out[i].Error = r.Err.Error()
					}
				}
				return out, err
			}),
		op(http.MethodPost, "/v1/keys/expiry-notices", "keyExpiryNotices", "Queue the notices of keys about to expire now (the runners do it every day)", ScopeAdmin,
			func(c *Call, _ none) (Sent, error) {
				n, err := c.Svc.KeyExpiryNotices(c.Ctx, c.Actor)
				return Sent{Sent: n}, err
			}),
		op(http.MethodPost, "/v1/lists/{list}/keyrequests/{id}", "keyRequestDecide", "Approve (bind the key) or refuse a key request waiting for the owners", ScopeOwner,
			func(c *Call, b KeyRequestDecideBody) (Decided, error) {
				text, err := c.Svc.KeyRequestDecide(c.Ctx, c.Actor, service.KeyRequestDecideRequest{List: c.Path("list"), ID: c.Path("id"), Approve: b.Approve})
				return Decided{Text: text}, err
			}),
		op(http.MethodPost, "/v1/queues/{queue}/requeue", "queueRequeue", "Hand queue entries over (to the queue they failed in, or to)", ScopeAdmin,
			func(c *Call, b service.QueueRequeueRequest) ([]service.Requeued, error) {
				b.Queue = c.Path("queue")
				return c.Svc.QueueRequeue(c.Ctx, c.Actor, b)
			}),
		op(http.MethodPost, "/v1/held/expire", "heldExpire", "Drop the held posts past their expiry and purge old tokens now (the runners do it every hour)", ScopeAdmin,
			func(c *Call, _ none) (service.HeldExpired, error) {
				return c.Svc.HeldExpire(c.Ctx, c.Actor)
			}),
		op(http.MethodPost, "/v1/lists/{list}/subscriptions", "subscribe", "Start the subscription of an address: it is mailed a confirmation and joins when it answers (202 pending)", ScopeOwner,
			func(c *Call, b SubscribeBody) (service.MemberInfo, error) {
				return c.Svc.Subscribe(c.Ctx, c.Actor, service.SubscribeRequest{List: c.Path("list"), Address: b.Address, Name: b.Name})
			}),
	}
}
