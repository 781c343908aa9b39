package haproxy

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"

	"github.com/octavia-es/octavia-es/adapters/amphora"
)

//go:embed templates/*.tmpl templates/ping-wrapper.sh
var templateFS embed.FS

// templates is parsed once; a parsed template is immutable and safe for
// concurrent Execute.
var templates = template.Must(template.New("").Option("missingkey=error").ParseFS(templateFS, "templates/*.tmpl"))

// Render returns the HAProxy configuration running cfg's load balancer.
// The output depends only on cfg and opts (objects in id order, no
// timestamps, no stream version), so an unchanged configuration renders
// byte-identical and its reload can be skipped. Errors wrap
// ErrUnsupportedProtocol, ErrUnsupportedOption, ErrCertificateUnavailable
// or ErrInvalidConfig.
func Render(cfg amphora.Config, opts Options) ([]byte, error) {
	v, err := build(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("haproxy config of load balancer %s: %w", cfg.LoadBalancer.ID, err)
	}
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, "haproxy.cfg.tmpl", v); err != nil {
		return nil, fmt.Errorf("haproxy config of load balancer %s: %w", cfg.LoadBalancer.ID, err)
	}
	return buf.Bytes(), nil
}

// PingWrapperScript is a shell script for Options.PingCommand: the agent
// writes it (mode 0755) where HAProxy can run it.
func PingWrapperScript() []byte {
	b, err := templateFS.ReadFile("templates/ping-wrapper.sh")
	if err != nil { // embedded: cannot happen
		panic(err)
	}
	return b
}
