package agent

import (
	"crypto/md5" //nolint:gosec // Octavia's ETag, not security
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// APIVersion is the agent API version (Octavia's api_server.VERSION).
const APIVersion = "1.0"

// maxConfigSize bounds an uploaded HAProxy configuration.
const maxConfigSize = 8 << 20

// api serves Octavia's amphora agent REST API (amphorae/backends/agent/
// api_server/server.py), the routes octavia-es uses:
//
//	GET    /                                          {"api_version": "1.0"}
//	GET    /1.0/info                                  hostname, haproxy_version, api_version (+ amphora_id, base_path)
//	GET    /1.0/details                               info + haproxy_count, listeners, load, memory, cpu, disk, topology
//	GET    /1.0/listeners                             [{status, uuid, type}]
//	PUT    /1.0/loadbalancer/{amphora_id}/{lb_id}/haproxy[?version=N]
//	                                                  upload (202; 400 invalid; 409 stale version)
//	GET    /1.0/loadbalancer/{lb_id}/haproxy          the configuration, ETag = its md5
//	PUT    /1.0/loadbalancer/{amphora_id}/{lb_id}/certificates/{name}.pem
//	                                                  a listener's PEM bundle, 0600 (200, ETag = md5);
//	                                                  files the next configuration does not name are removed
//	GET    /1.0/loadbalancer/{lb_id}/certificates/{name}.pem   {"md5sum"}
//	DELETE /1.0/loadbalancer/{lb_id}/certificates/{name}.pem
//	GET    /1.0/loadbalancer/{lb_id}/status           lbState
//	PUT    /1.0/loadbalancer/{lb_id}/{start|stop|reload}
//	DELETE /1.0/loadbalancer/{lb_id}                  (also DELETE /1.0/listeners/{lb_id}, Octavia's 1.0 client path)
//	POST   /1.0/plug/vip/{vip}                        (PUT too) check the VIP is bindable, record it
//	PUT    /1.0/config                                the controller's part of agent.yaml (ConfigUpdate):
//	                                                  written, heartbeats changed live (202; 400 invalid)
//	PUT    /1.0/certificate                           the agent's own server certificate, PEM cert (+chain) and
//	                                                  key; must name this amphora and chain to the client CA;
//	                                                  written and served from the next handshake (200; 400)
//
// Errors are Octavia's: {"message", "details"} from the handlers,
// {"error", "http_code"} for unknown routes and methods.
type api struct {
	mg    *manager
	info  *infoSource
	vips  *vipRecord
	ampID string
	log   *slog.Logger
	conf  *liveConfig
	cert  *serverCert
}

func (a *api) routes() http.Handler {
	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) { httpError(w, http.StatusNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) { httpError(w, http.StatusMethodNotAllowed) })
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"api_version": APIVersion})
	})
	r.Route("/"+APIVersion, func(r chi.Router) {
		r.Get("/info", a.getInfo)
		r.Get("/details", a.getDetails)
		r.Get("/listeners", a.getListeners)
		// chi needs one name per path position: {a} is the amphora id of an
		// upload and the load balancer id otherwise.
		r.Put("/loadbalancer/{a}/{b}/haproxy", a.upload)
		r.Put("/loadbalancer/{a}/{b}/certificates/{file}", a.uploadCert)
		r.Get("/loadbalancer/{a}/certificates/{file}", a.getCertMD5)
		r.Delete("/loadbalancer/{a}/certificates/{file}", a.deleteCert)
		r.Get("/loadbalancer/{a}/{b}", a.getLB)
		r.Put("/loadbalancer/{a}/{b}", a.lbAction)
		r.Delete("/loadbalancer/{a}", a.deleteLB)
		r.Delete("/listeners/{a}", a.deleteLB)
		r.Post("/plug/vip/{vip}", a.plugVIP)
		r.Put("/plug/vip/{vip}", a.plugVIP)
		r.Put("/config", a.updateConfig)
		r.Put("/certificate", a.updateServerCert)
	})
	return r
}

func (a *api) getInfo(w http.ResponseWriter, _ *http.Request) {
	info := a.info.info()
	if t := a.cert.notAfter(); !t.IsZero() {
		// octavia-es addition: housekeeping rotates the certificate before.
		info["cert_not_after"] = t.UTC().Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, info)
}

func (a *api) getDetails(w http.ResponseWriter, _ *http.Request) {
	ls := a.mg.listeners()
	ids := make([]string, 0, len(ls))
	for _, l := range ls {
		ids = append(ids, l.UUID)
	}
	writeJSON(w, http.StatusOK, a.info.details(a.mg.runningCount(), ids))
}

func (a *api) getListeners(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.mg.listeners())
}

func (a *api) upload(w http.ResponseWriter, r *http.Request) {
	ampID, lbID := chi.URLParam(r, "a"), chi.URLParam(r, "b")
	if !validID.MatchString(lbID) {
		writeMessage(w, http.StatusBadRequest, "Invalid request", fmt.Sprintf("invalid load balancer id %q", lbID))
		return
	}
	// The controller pushes to an address; make sure the amphora there is
	// the one it means (a port reused by another amphora, a stale record).
	if ampID != a.ampID {
		writeMessage(w, http.StatusBadRequest, "Invalid request",
			fmt.Sprintf("this is amphora %s, not %s", a.ampID, ampID))
		return
	}
	version := int64(-1)
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeMessage(w, http.StatusBadRequest, "Invalid request", fmt.Sprintf("invalid version %q", v))
			return
		}
		version = n
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxConfigSize))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Invalid request", "configuration unreadable or larger than 8 MiB")
		return
	}
	res, err := a.mg.upload(r.Context(), lbID, body, version)
	if err != nil {
		a.fail(w, "upload", lbID, err)
		return
	}
	w.Header().Set("ETag", res.MD5)
	writeJSON(w, http.StatusAccepted, map[string]any{
		"message": "OK", "changed": res.Changed, "running": res.Running, "version": res.Version,
	})
}

func (a *api) uploadCert(w http.ResponseWriter, r *http.Request) {
	ampID, lbID, name := chi.URLParam(r, "a"), chi.URLParam(r, "b"), chi.URLParam(r, "file")
	if !validID.MatchString(lbID) {
		writeMessage(w, http.StatusBadRequest, "Invalid request", fmt.Sprintf("invalid load balancer id %q", lbID))
		return
	}
	if ampID != a.ampID {
		writeMessage(w, http.StatusBadRequest, "Invalid request", fmt.Sprintf("this is amphora %s, not %s", a.ampID, ampID))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCertSize))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Invalid request", "certificate unreadable or larger than 1 MiB")
		return
	}
	sum, err := a.mg.uploadCert(lbID, name, body)
	var bad *badCertError
	switch {
	case errors.As(err, &bad):
		writeMessage(w, http.StatusBadRequest, "Invalid request", bad.msg)
		return
	case err != nil:
		a.fail(w, "upload certificate", lbID, err)
		return
	}
	w.Header().Set("ETag", sum)
	writeJSON(w, http.StatusOK, map[string]string{"message": "OK"})
}

func (a *api) getCertMD5(w http.ResponseWriter, r *http.Request) {
	lbID, name := chi.URLParam(r, "a"), chi.URLParam(r, "file")
	sum, err := a.mg.certMD5(lbID, name)
	if errors.Is(err, errCertNotFound) {
		writeMessage(w, http.StatusNotFound, "Certificate Not Found", "No certificate with filename: "+name)
		return
	}
	if err != nil {
		a.fail(w, "read certificate", lbID, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"md5sum": sum})
}

func (a *api) deleteCert(w http.ResponseWriter, r *http.Request) {
	lbID, name := chi.URLParam(r, "a"), chi.URLParam(r, "file")
	if err := a.mg.deleteCert(lbID, name); err != nil {
		a.fail(w, "delete certificate", lbID, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "OK"})
}

func (a *api) getLB(w http.ResponseWriter, r *http.Request) {
	lbID, what := chi.URLParam(r, "a"), chi.URLParam(r, "b")
	switch what {
	case "haproxy":
		body, err := a.mg.config(lbID)
		if err != nil {
			a.fail(w, "get config", lbID, err)
			return
		}
		sum := md5.Sum(body) //nolint:gosec
		w.Header().Set("ETag", hex.EncodeToString(sum[:]))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(body)
	case "status":
		st, err := a.mg.status(lbID)
		if err != nil {
			a.fail(w, "status", lbID, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	default:
		httpError(w, http.StatusNotFound)
	}
}

func (a *api) lbAction(w http.ResponseWriter, r *http.Request) {
	lbID, action := chi.URLParam(r, "a"), strings.ToLower(chi.URLParam(r, "b"))
	if action != "start" && action != "stop" && action != "reload" {
		writeMessage(w, http.StatusBadRequest, "Invalid Request", "Unknown action: "+action)
		return
	}
	if err := a.mg.action(lbID, action); err != nil {
		a.fail(w, action, lbID, err)
		return
	}
	details := fmt.Sprintf("Listener %s %sed", lbID, action)
	if action == "start" {
		details = "Configuration file is valid\nhaproxy daemon for " + lbID + " started"
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "OK", "details": details})
}

func (a *api) deleteLB(w http.ResponseWriter, r *http.Request) {
	lbID := chi.URLParam(r, "a")
	if !validID.MatchString(lbID) {
		writeJSON(w, http.StatusOK, map[string]string{"message": "OK"}) // nothing by that name
		return
	}
	if err := a.mg.delete(lbID); err != nil {
		a.fail(w, "delete", lbID, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "OK"})
}

func (a *api) plugVIP(w http.ResponseWriter, r *http.Request) {
	vip := chi.URLParam(r, "vip")
	var netInfo map[string]any
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err == nil && len(strings.TrimSpace(string(body))) > 0 {
		err = json.Unmarshal(body, &netInfo)
	}
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Invalid subnet information", err.Error())
		return
	}
	iface, err := a.vips.plug(vip, netInfo)
	if errors.Is(err, errBadVIP) {
		writeMessage(w, http.StatusBadRequest, "Invalid VIP", err.Error())
		return
	}
	if err != nil {
		a.log.Error("plug VIP", "vip", vip, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Error plugging VIP", err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{
		"message": "OK", "details": fmt.Sprintf("VIP %s plugged on interface %s", vip, iface),
	})
}

// updateConfig is Octavia's upload_config: rewrite the agent's
// configuration file and apply what can change at once (the heartbeats;
// HAProxy keeps running untouched).
func (a *api) updateConfig(w http.ResponseWriter, r *http.Request) {
	const failed = "Unable to update amphora-agent configuration."
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxConfigUpdate))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, failed, "configuration unreadable or larger than 64 KiB")
		return
	}
	err = a.conf.update(body)
	var bad *badUpdateError
	switch {
	case errors.As(err, &bad):
		writeMessage(w, http.StatusBadRequest, failed, bad.msg)
		return
	case err != nil:
		a.log.Error("update agent configuration", "err", err)
		writeMessage(w, http.StatusInternalServerError, failed, err.Error())
		return
	}
	a.log.Info("agent configuration updated", "heartbeat_targets", a.conf.heartbeatTargets())
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "OK"})
}

// fail maps a manager error to Octavia's answers.
func (a *api) fail(w http.ResponseWriter, op, lbID string, err error) {
	var invalid *invalidConfigError
	var stale *staleError
	switch {
	case errors.Is(err, errNotFound):
		writeMessage(w, http.StatusNotFound, "Loadbalancer Not Found", "No loadbalancer with UUID: "+lbID)
	case errors.As(err, &invalid):
		writeMessage(w, http.StatusBadRequest, "Invalid request", invalid.details)
	case errors.As(err, &stale):
		writeJSON(w, http.StatusConflict, map[string]any{
			"message": "Stale configuration", "details": stale.Error(), "version": stale.running,
		})
	case errors.Is(err, errClosed):
		writeMessage(w, http.StatusServiceUnavailable, "Agent shutting down", err.Error())
	default:
		a.log.Error("load balancer operation failed", "op", op, "lb_id", lbID, "err", err)
		writeMessage(w, http.StatusInternalServerError, fmt.Sprintf("Error %s haproxy", gerund(op)), err.Error())
	}
}

// gerund is Octavia's "Error {action}ing haproxy" wording.
func gerund(op string) string {
	switch op {
	case "start", "reload":
		return op + "ing"
	case "stop":
		return "stopping"
	case "delete":
		return "deleting"
	case "upload":
		return "uploading"
	}
	return "during " + op + " of"
}

func writeMessage(w http.ResponseWriter, code int, message, details string) {
	writeJSON(w, code, map[string]string{"message": message, "details": details})
}

// httpError is the body of Flask's HTTP exceptions in Octavia's agent.
func httpError(w http.ResponseWriter, code int) {
	writeJSON(w, code, map[string]any{"error": http.StatusText(code), "http_code": code})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
