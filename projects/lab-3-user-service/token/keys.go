// Package token issues and verifies the service's JWTs: short-lived access tokens and rotating
// refresh tokens, signed with Ed25519 under a key id (kid) so keys can be rotated without logging
// everybody out.
package token

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// KeySet holds the signing key (the active kid) and every key still accepted for verification.
// Rotation adds a key and makes it active; the old key keeps verifying until Retire removes it,
// which should happen once the longest-lived token it signed has expired.
type KeySet struct {
	mu     sync.RWMutex
	active string
	keys   map[string]ed25519.PrivateKey
}

// NewKeySet returns a KeySet whose active key is kid.
func NewKeySet(kid string, key ed25519.PrivateKey) (*KeySet, error) {
	if kid == "" || len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("key set: need a non-empty kid and a 64-byte Ed25519 private key")
	}
	return &KeySet{active: kid, keys: map[string]ed25519.PrivateKey{kid: key}}, nil
}

// GenerateKeySet makes a KeySet with one fresh random key.
func GenerateKeySet(kid string) (*KeySet, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return NewKeySet(kid, priv)
}

// Rotate adds key under kid and makes it the signing key.
func (k *KeySet) Rotate(kid string, key ed25519.PrivateKey) error {
	if kid == "" || len(key) != ed25519.PrivateKeySize {
		return errors.New("rotate: need a non-empty kid and a 64-byte Ed25519 private key")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[kid] = key
	k.active = kid
	return nil
}

// Retire stops accepting tokens signed by kid. The active key cannot be retired.
func (k *KeySet) Retire(kid string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if kid == k.active {
		return fmt.Errorf("retire: %q is the active key; rotate first", kid)
	}
	delete(k.keys, kid)
	return nil
}

func (k *KeySet) signing() (string, ed25519.PrivateKey) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.active, k.keys[k.active]
}

func (k *KeySet) public(kid string) (ed25519.PublicKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	priv, ok := k.keys[kid]
	if !ok {
		return nil, false
	}
	return priv.Public().(ed25519.PublicKey), true
}

// ParseKeys reads "kid:base64-seed" entries separated by commas or newlines; the first entry is
// the active key. A seed is the 32-byte Ed25519 seed, standard base64.
func ParseKeys(spec string) (*KeySet, error) {
	var ks *KeySet
	var first string
	var firstKey ed25519.PrivateKey
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(spec, ",", "\n")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kid, b64, ok := strings.Cut(line, ":")
		if !ok || kid == "" {
			return nil, fmt.Errorf("key entry %q: expected kid:base64-seed", line)
		}
		seed, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("key %q: expected a base64 32-byte Ed25519 seed", kid)
		}
		key := ed25519.NewKeyFromSeed(seed)
		if ks == nil {
			first, firstKey = kid, key
			ks, _ = NewKeySet(kid, key)
			continue
		}
		ks.keys[kid] = key
	}
	if ks == nil {
		return nil, errors.New("no keys: expected at least one kid:base64-seed entry")
	}
	ks.active, ks.keys[first] = first, firstKey
	return ks, nil
}

// LoadKeys returns the key set from the env value (JWT_KEYS) or, if empty, from the file
// (JWT_KEYS_FILE). With neither, it generates a development key and reports generated=true so
// the caller can warn: tokens then die with the process and cannot be shared between replicas.
func LoadKeys(envValue, file string) (ks *KeySet, generated bool, err error) {
	switch {
	case envValue != "":
		ks, err = ParseKeys(envValue)
		return ks, false, err
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, false, fmt.Errorf("read key file: %w", err)
		}
		ks, err = ParseKeys(string(bytes.TrimSpace(b)))
		return ks, false, err
	default:
		ks, err = GenerateKeySet("dev-" + randomID()[:8])
		return ks, true, err
	}
}

// EncodeSeed renders a key entry for JWT_KEYS; used by tests and by `authd -genkey`.
func EncodeSeed(kid string, key ed25519.PrivateKey) string {
	return kid + ":" + base64.StdEncoding.EncodeToString(key.Seed())
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
