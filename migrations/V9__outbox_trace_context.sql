-- The W3C trace context (`traceparent`) of the transaction that stored an event, when the node
-- exports traces: the relay and the consumer continue that trace, so one trace runs from an
-- order to its notification. NULL when tracing is off.
ALTER TABLE outbox ADD COLUMN traceparent TEXT;
