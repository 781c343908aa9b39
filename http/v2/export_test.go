package v2

// AttrNames lists the attributes of each write body type, for the external
// robustness tests.
func AttrNames() map[string][]string {
	names := func(t *complexType) []string {
		var out []string
		for _, a := range t.attrs {
			out = append(out, a.name)
		}
		return out
	}
	return map[string][]string{
		"loadbalancer POST":  names(loadBalancerPOST),
		"loadbalancer PUT":   names(loadBalancerPUT),
		"listener POST":      names(listenerPOST),
		"listener PUT":       names(listenerPUT),
		"pool POST":          names(poolPOST),
		"pool PUT":           names(poolPUT),
		"member POST":        names(memberPOST),
		"member PUT":         names(memberPUT),
		"healthmonitor POST": names(healthMonitorPOST),
		"healthmonitor PUT":  names(healthMonitorPUT),
	}
}
