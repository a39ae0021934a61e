-- wrk: POST an anonymous group's registration, as a desk would
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"room": "multibron", "activity": "connection", "occurredOn": "2024-05-01", "headcount": 3}'
