package heartbeat

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var testKey = []byte("insecure-test-key")

func sample() Message {
	return Message{
		AmphoraID: "4fd2cf6f-2a8f-4c5b-9d64-2f6c6d5e1a01",
		Seq:       1700000000123456,
		Version:   Version,
		BootID:    "0123456789abcdef0123456789abcdef",
		Listeners: map[string]Listener{
			"9b5c2a55-0c4e-4b7b-8b39-0b1a7f1e2d01": {Status: "OPEN", Stats: Stats{TX: 1024, RX: 512, Conns: 3, TotConns: 7, EReq: 1}},
		},
		Pools: map[string]Pool{
			"6a1b0c2d-3e4f-4a5b-8c6d-7e8f9a0b1c01:9b5c2a55-0c4e-4b7b-8b39-0b1a7f1e2d01": {
				Status: "UP",
				Members: map[string]string{
					"0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f01": "UP",
					"0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f02": "no check",
				},
			},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	m := sample()
	b, err := Encode(m, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b[len(b)-64:]); strings.Trim(got, "0123456789abcdef") != "" {
		t.Fatalf("envelope does not end with 64 lowercase hex characters: %q", got)
	}
	got, err := Decode(b, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
	}
}

func TestEncodeNeverSendsNullMaps(t *testing.T) {
	b, err := Encode(Message{AmphoraID: "a", Pools: map[string]Pool{"p:l": {Status: "UP"}}}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(b[:len(b)-64]))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.NewDecoder(zr).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["listeners"].(map[string]any); !ok {
		t.Fatalf("listeners = %#v, want an object", raw["listeners"])
	}
	members := raw["pools"].(map[string]any)["p:l"].(map[string]any)["members"]
	if _, ok := members.(map[string]any); !ok {
		t.Fatalf("members = %#v, want an object", members)
	}
}

// The fixtures are written by testdata/gen_octavia_vectors.py with Python's
// zlib, hmac and json, as Octavia's status_message.wrap_envelope does.
func TestDecodeOctaviaEnvelopes(t *testing.T) {
	want := sample()
	want.Seq, want.BootID = 67, ""
	for _, name := range []string{"octavia_hex.bin", "octavia_raw.bin"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b, testKey)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Decode:\n got %+v\nwant %+v", got, want)
			}
			if _, err := Decode(b, []byte("another key")); !errors.Is(err, ErrBadHMAC) {
				t.Fatalf("Decode with another key: err = %v, want ErrBadHMAC", err)
			}
		})
	}
}

// Octavia's unwrap_envelope (re-implemented with the same stdlib calls)
// accepts what Encode produces.
func TestOctaviaDecodesOurEnvelope(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	b, err := Encode(sample(), testKey)
	if err != nil {
		t.Fatal(err)
	}
	const script = `
import hashlib, hmac, json, sys, zlib
env = sys.stdin.buffer.read()
payload, tag = env[:-64], env[-64:]
calc = hmac.new(sys.argv[1].encode("utf-8"), payload, hashlib.sha256).hexdigest().encode("utf-8")
assert hmac.compare_digest(tag, calc), "hmac"
obj = json.loads(zlib.decompress(payload).decode("utf-8"))
print(obj["id"], obj["seq"], obj["ver"], obj["pools"][sys.argv[2]]["members"]["0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f02"])
`
	cmd := exec.Command(py, "-c", script, string(testKey), "6a1b0c2d-3e4f-4a5b-8c6d-7e8f9a0b1c01:9b5c2a55-0c4e-4b7b-8b39-0b1a7f1e2d01")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python unwrap: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "4fd2cf6f-2a8f-4c5b-9d64-2f6c6d5e1a01 1700000000123456 3 no check"; got != want {
		t.Fatalf("python read %q, want %q", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	good, err := Encode(sample(), testKey)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[10] ^= 0x01
	badTag := bytes.Clone(good)
	badTag[len(badTag)-1] = 'x'
	signed := func(payload []byte) []byte {
		return hexSigned(payload, testKey)
	}
	var bomb bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&bomb, zlib.BestCompression)
	_, _ = zw.Write(bytes.Repeat([]byte(" "), MaxJSON+10))
	_ = zw.Close()

	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"shorter than a raw digest", good[:20], ErrMalformed},
		{"exactly a digest", good[len(good)-32:], ErrMalformed},
		{"truncated", good[:len(good)-1], ErrBadHMAC},
		{"truncated payload", good[5:], ErrBadHMAC},
		{"payload bit flipped", flipped, ErrBadHMAC},
		{"tag altered", badTag, ErrBadHMAC},
		{"oversized", make([]byte, MaxEnvelope+1), ErrMalformed},
		{"signed but not zlib", signed([]byte("not zlib at all")), ErrMalformed},
		{"signed zlib but not JSON", signed(deflate(t, []byte("{nope"))), ErrMalformed},
		{"signed JSON without an id", signed(deflate(t, []byte(`{"seq": 1, "ver": 3}`))), ErrMalformed},
		{"signed JSON of the wrong shape", signed(deflate(t, []byte(`{"id": "a", "listeners": []}`))), ErrMalformed},
		{"decompression bomb", signed(bomb.Bytes()), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.b, testKey); !errors.Is(err, tt.want) {
				t.Fatalf("Decode: err = %v, want %v", err, tt.want)
			}
		})
	}
}

func deflate(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func hexSigned(payload, key []byte) []byte {
	return hex.AppendEncode(bytes.Clone(payload), mac(payload, key))
}
