"""Game days: faults from the catalog injected at seeded random times while a traffic generator
measures a service against its SLO; the trainee keeps the service up and repairs what broke."""
