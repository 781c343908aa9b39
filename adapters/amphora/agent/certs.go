package agent

import (
	"bytes"
	"crypto/md5" //nolint:gosec // Octavia's ETag, not security
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// certDirName is the directory of a load balancer's TLS files (listener
// certificate bundles), in the load balancer's directory: the controller
// renders them into the configuration as "certificates/<name>.pem",
// relative to where HAProxy runs.
const certDirName = "certificates"

// CertPath is the path of an uploaded certificate file as a configuration
// names it (relative to the load balancer's directory).
func CertPath(filename string) string { return certDirName + "/" + filename }

// maxCertSize bounds an uploaded PEM file.
const maxCertSize = 1 << 20

// validCertName: one path component ending in .pem (Octavia's agent wants
// the extension).
var validCertName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,123}\.pem$`)

var errCertNotFound = errors.New("certificate not found")

// badCertError: an upload refused before anything was written (400).
type badCertError struct{ msg string }

func (e *badCertError) Error() string { return e.msg }

// uploadCert writes a PEM file for lbID (Octavia's upload_certificate):
// mode 0600, atomically, so a HAProxy reloading never reads half of it.
// It returns the md5 of the content (Octavia's ETag).
func (mg *manager) uploadCert(lbID, name string, body []byte) (string, error) {
	if !validCertName.MatchString(name) {
		return "", &badCertError{msg: fmt.Sprintf("invalid certificate file name %q: want <name>.pem", name)}
	}
	if b, _ := pem.Decode(body); b == nil {
		return "", &badCertError{msg: "not a PEM file"}
	}
	err := mg.with(lbID, true, func(lb *lbProc) error {
		dir := filepath.Join(lb.paths.Dir, certDirName)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		return writeFileAtomic(filepath.Join(dir, name), body, 0o600)
	})
	if err != nil {
		return "", err
	}
	sum := md5.Sum(body) //nolint:gosec
	return hex.EncodeToString(sum[:]), nil
}

// certMD5 is Octavia's get_certificate_md5.
func (mg *manager) certMD5(lbID, name string) (string, error) {
	if !validCertName.MatchString(name) {
		return "", errCertNotFound
	}
	var sum string
	err := mg.with(lbID, false, func(lb *lbProc) error {
		b, err := os.ReadFile(filepath.Join(lb.paths.Dir, certDirName, name))
		if err != nil {
			return errCertNotFound
		}
		s := md5.Sum(b) //nolint:gosec
		sum = hex.EncodeToString(s[:])
		return nil
	})
	if errors.Is(err, errNotFound) {
		err = errCertNotFound
	}
	return sum, err
}

// deleteCert is Octavia's delete_certificate: a missing file is fine.
func (mg *manager) deleteCert(lbID, name string) error {
	if !validCertName.MatchString(name) {
		return nil
	}
	err := mg.with(lbID, false, func(lb *lbProc) error {
		err := os.Remove(filepath.Join(lb.paths.Dir, certDirName, name))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	})
	if errors.Is(err, errNotFound) {
		return nil
	}
	return err
}

// pruneCerts removes the certificate files a newly installed
// configuration no longer names (replaced or removed listeners' keys do
// not linger). lb.mu held.
func (mg *manager) pruneCerts(lb *lbProc, cfg []byte) {
	dir := filepath.Join(lb.paths.Dir, certDirName)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type().IsRegular() && !bytes.Contains(cfg, []byte(e.Name())) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				mg.log.Warn("remove an unused certificate", "lb_id", lb.id, "file", e.Name(), "err", err)
			}
		}
	}
}
