// Package sensors is the gateway's side of its sensors: the models it can pair and what
// they sense, the reading payload and topic formats with their validation, the registry
// of paired sensors with their credentials, and the durable ingest of readings.
//
// The MQTT broker that sensors connect to is the adapter in sensors/broker.
package sensors
