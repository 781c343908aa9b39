package main

import (
	"net"
	"net/url"
)

// isLoopbackURL reports whether raw is an http URL whose host is a loopback
// address or localhost: the only targets this load generator may hit.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
