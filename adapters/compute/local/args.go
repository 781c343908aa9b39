package local

// agentArgs is the agent's command line after the executable.
func agentArgs(configPath string) []string {
	return []string{"amphora-agent", "--config", configPath}
}

// hasConfigArg: args run the agent with configPath.
func hasConfigArg(args []string, configPath string) bool {
	for i, a := range args {
		if a == "--config="+configPath || (a == "--config" && i+1 < len(args) && args[i+1] == configPath) {
			return true
		}
	}
	return false
}
