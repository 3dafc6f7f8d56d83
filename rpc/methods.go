// Package rpc is rhizome's wire contract: the JSON-RPC 2.0 method names, their params and
// results, the error codes, the protocol version, the newline-delimited stream codec and the
// typed Client that the CLI and Go code use to talk to the agent.
//
// Everything that crosses the agent's socket is defined here and nowhere else, so the agent
// and every client agree by construction.
package rpc

// ProtocolVersion is bumped whenever a method or type changes incompatibly. A client that sees
// an agent with another version asks the user to restart the agent.
const ProtocolVersion = 1

// Method names served by the agent.
const (
	MethodVersion     = "version"
	MethodSleeper     = "sleeper"
	MethodForward     = "forward"
	MethodPs          = "ps"
	MethodStop        = "stop"
	MethodLogs        = "logs"
	MethodSubscribe   = "subscribe"
	MethodUnsubscribe = "unsubscribe"
	MethodShutdown    = "shutdown"
)

// Notifications sent by the agent to a subscribed client.
const (
	// NotifyOutput carries a batch of output lines (OutputParams).
	NotifyOutput = "output"
	// NotifyEnded says a subscription ended from the agent's side (EndedParams).
	NotifyEnded = "subscription_ended"
)
