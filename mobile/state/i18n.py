"""The app's words, Spanish first, English selectable.

A typed catalog rather than gettext: the app has a few hundred short strings, two languages and
no translators' workflow yet; a dict keyed by message id, checked by a test that every key has
both languages and the same placeholders, needs no .po/.mo build step in `flet build` and no
runtime file lookup on the phone. Money and dates go through shared.formatting (Babel).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Final, Literal

from shared.calendar import to_business_time
from shared.formatting import format_date, format_datetime, format_money

Lang = Literal["es", "en"]
LANGS: Final[tuple[Lang, ...]] = ("es", "en")
LOCALES: Final[dict[Lang, str]] = {"es": "es_CO", "en": "en"}

# id: (es, en). Placeholders use str.format names.
CATALOG: Final[dict[str, tuple[str, str]]] = {
    "app.title": ("Recaudo", "Recaudo"),
    # first run
    "setup.title": ("Configurar este teléfono", "Set up this phone"),
    "setup.intro": (
        "Ingrese la dirección del servidor y su usuario. Se hace una sola vez.",
        "Enter the server address and your user. This is done once.",
    ),
    "setup.server": ("Servidor", "Server"),
    "setup.username": ("Usuario", "User"),
    "setup.password": ("Contraseña", "Password"),
    "setup.submit": ("Ingresar y registrar", "Log in and register"),
    "setup.working": ("Registrando el teléfono…", "Registering the phone…"),
    "setup.first_sync": ("Descargando la cartera…", "Downloading the portfolio…"),
    "setup.language": ("Idioma", "Language"),
    # navigation
    "nav.today": ("Hoy", "Today"),
    "nav.sync": ("Sincronizar", "Sync"),
    "nav.week": ("Mi semana", "My week"),
    "nav.back": ("Volver", "Back"),
    # today
    "today.title": ("Hoy", "Today"),
    "today.search": ("Buscar cliente", "Search client"),
    "today.count": ("{shown} de {total} clientes", "{shown} of {total} clients"),
    "today.empty": (
        "No hay clientes para mostrar. Sincronice o cambie los filtros.",
        "No clients to show. Sync or change the filters.",
    ),
    "today.pending": ("{n} sin enviar", "{n} not sent"),
    "today.offline": ("Sin conexión", "Offline"),
    "today.online": ("En línea", "Online"),
    "filter.all_segments": ("Todos", "All"),
    "filter.all_buckets": ("Toda", "Any"),
    "filter.segment": ("Segmento", "Segment"),
    "filter.bucket": ("Mora", "Age"),
    "filter.promise_due": ("Promesa hoy", "Promise today"),
    "filter.not_visited": ("Sin visita esta semana", "Not visited this week"),
    "row.balance": ("Saldo {amount}", "Balance {amount}"),
    "row.promise_today": ("Promesa hoy: {amount}", "Promise today: {amount}"),
    "row.last": ("Última gestión: {outcome}", "Last outcome: {outcome}"),
    "row.distance_m": ("{n} m", "{n} m"),
    "row.distance_km": ("{n} km", "{n} km"),
    # route planning (shared/routing reason codes, and the phone's no_location)
    "route.plan": ("Planear ruta", "Plan route"),
    "route.replan": ("Re-planear desde aquí", "Re-plan from here"),
    "route.planning": ("Planeando la ruta…", "Planning the route…"),
    "route.none": (
        "Ordene las paradas de hoy desde donde está, dentro del horario legal y la jornada.",
        "Order today's stops from where you are, within legal hours and the working day.",
    ),
    "route.summary": (
        "Ruta de hoy: {stops} · {km} km · termina {end}",
        "Today's route: {stops} · {km} km · ends {end}",
    ),
    "route.empty": (
        "Ruta de hoy: ninguna parada cabe ahora",
        "Today's route: no stop fits now",
    ),
    "route.left_out": ("{n} fuera de la ruta", "{n} left out"),
    "route.planned": (
        "Ruta planeada: {stops}, {skipped} fuera de la ruta",
        "Route planned: {stops}, {skipped} left out",
    ),
    "route.stops": ("{n} paradas", "{n} stops"),
    "route.one_stop": ("1 parada", "1 stop"),
    "route.eta": ("Llegada ~{time}", "Arrive ~{time}"),
    "route.visited": ("Visitado hoy", "Visited today"),
    "route.out": ("Fuera de la ruta: {reason}", "Left out: {reason}"),
    "route.event": ("Ruta del día", "Day route"),
    "reason.no_time": ("no alcanza el tiempo hoy", "no time left today"),
    "reason.day_end": ("no alcanza antes del fin de la jornada", "cannot end before the day ends"),
    "reason.window_closed": ("su horario de atención ya cerró", "its opening hours are over"),
    "reason.outside_legal_hours": (
        "fuera del horario legal de contacto",
        "outside legal contact hours",
    ),
    "reason.holiday": ("hoy es festivo: no se permite contacto", "holiday: no contact allowed"),
    "reason.closed_day": ("hoy no se permite contacto", "no contact allowed today"),
    "reason.no_location": ("sin ubicación en el mapa", "no location on the map"),
    # map
    "map.title": ("Mapa", "Map"),
    "map.summary": (
        "Paradas en el orden de Hoy: {shown} · Sin ubicación: {missing}",
        "Stops in today's order: {shown} · Without a location: {missing}",
    ),
    "map.route": (
        "Ruta planeada: {stops} en orden · Sin ubicación: {missing}",
        "Planned route: {stops} in order · Without a location: {missing}",
    ),
    "nav.map": ("Mapa", "Map"),
    # client
    "client.title": ("Cliente", "Client"),
    "client.balance": ("Saldo", "Balance"),
    "client.pending_note": (
        "Incluye {n} pago(s) aún no reflejados por el servidor",
        "Includes {n} payment(s) the server has not reflected yet",
    ),
    "client.invoices": ("Facturas", "Invoices"),
    "client.no_invoices": ("Sin facturas abiertas", "No open invoices"),
    "client.invoice": ("Factura {number}", "Invoice {number}"),
    "client.due": ("Vence {date}", "Due {date}"),
    "client.promises": ("Promesas", "Promises"),
    "client.no_promises": ("Sin promesas", "No promises"),
    "client.promise_line": ("{amount} para el {date}", "{amount} by {date}"),
    "client.visits": ("Últimas gestiones", "Last visits"),
    "client.no_visits": ("Sin gestiones registradas", "No visits recorded"),
    "client.payments_today": ("Pagos de hoy", "Today's payments"),
    "client.channels": ("Canales autorizados", "Authorised channels"),
    "client.no_channels": ("Ninguno registrado", "None recorded"),
    "client.call": ("Llamar", "Call"),
    "client.whatsapp": ("WhatsApp", "WhatsApp"),
    "client.navigate": ("Ruta", "Route"),
    "client.visit": ("Registrar visita", "Log visit"),
    "client.promise": ("Promesa", "Promise"),
    "client.payment": ("Pago", "Payment"),
    "client.void": ("Anular", "Void"),
    "client.voided": ("Anulado", "Voided"),
    # visit
    "visit.title": ("Registrar visita", "Log visit"),
    "visit.outcome": ("Resultado", "Outcome"),
    "visit.notes": ("Notas", "Notes"),
    "visit.gps_waiting": ("Buscando GPS…", "Getting GPS…"),
    "visit.gps_fix": ("GPS ±{n} m", "GPS ±{n} m"),
    "visit.gps_none": ("Sin GPS: la visita se guarda igual", "No GPS: the visit is saved anyway"),
    "visit.save": ("Guardar visita", "Save visit"),
    "visit.saved": ("Visita guardada", "Visit saved"),
    "warn.contact_hours": (
        "Fuera del horario legal de contacto: {reason}",
        "Outside legal contact hours: {reason}",
    ),
    "warn.far": (
        "Está a {distance} del cliente (más de {radius} m)",
        "You are {distance} from the client (more than {radius} m)",
    ),
    # promise
    "promise.title": ("Promesa de pago", "Promise to pay"),
    "promise.amount": ("Valor prometido", "Amount promised"),
    "promise.date": ("Fecha (dd/mm/aaaa)", "Date (dd/mm/yyyy)"),
    "promise.save": ("Guardar promesa", "Save promise"),
    "promise.saved": ("Promesa guardada", "Promise saved"),
    # payment
    "payment.title": ("Registrar pago", "Record payment"),
    "payment.amount": ("Valor recibido", "Amount received"),
    "payment.method": ("Medio de pago", "Payment method"),
    "payment.reference": ("Referencia (opcional)", "Reference (optional)"),
    "payment.invoices": ("Aplicar a facturas (opcional)", "Apply to invoices (optional)"),
    "payment.review": ("Revisar", "Review"),
    "payment.confirm_title": ("Confirmar pago", "Confirm payment"),
    "payment.confirm_text": (
        "¿Recibió {amount} en {method} de {client}?",
        "Did you receive {amount} by {method} from {client}?",
    ),
    "payment.confirm": ("Sí, registrar", "Yes, record it"),
    "payment.edit": ("Corregir", "Edit"),
    "payment.over_balance": (
        "El valor supera el saldo ({balance}); el excedente queda como saldo a favor",
        "The amount exceeds the balance ({balance}); the rest stays as a credit",
    ),
    "receipt.title": ("Recibo", "Receipt"),
    "receipt.share": ("Compartir", "Share"),
    "receipt.pdf": ("PDF", "PDF"),
    "receipt.share_failed": (
        "Este equipo no puede compartir archivos; comparta el recibo como texto",
        "This device cannot share files; share the receipt as text",
    ),
    "receipt.done": ("Listo", "Done"),
    "receipt.number": ("Recibo N.º {number}", "Receipt No. {number}"),
    "receipt.client": ("Cliente: {name} ({code})", "Client: {name} ({code})"),
    "receipt.amount": ("Valor: {amount}", "Amount: {amount}"),
    "receipt.words": ("Son: {words}", "In words (Spanish): {words}"),
    "receipt.method": ("Medio: {method}", "Method: {method}"),
    "receipt.reference": ("Referencia: {reference}", "Reference: {reference}"),
    "receipt.date": ("Fecha: {date}", "Date: {date}"),
    "receipt.collector": ("Gestor: {name}", "Collector: {name}"),
    "void.title": ("Anular pago", "Void payment"),
    "void.reason": ("Motivo", "Reason"),
    "void.save": ("Anular pago", "Void payment"),
    "void.cancel": ("Cancelar", "Cancel"),
    "void.saved": ("Pago anulado", "Payment voided"),
    # sync
    "sync.title": ("Sincronización", "Sync"),
    "sync.last": ("Última sincronización: {when}", "Last sync: {when}"),
    "sync.never": ("Nunca sincronizado", "Never synced"),
    "sync.button": ("Sincronizar ahora", "Sync now"),
    "sync.running": ("Sincronizando…", "Syncing…"),
    "sync.push": ("Enviando registros… {n}", "Sending records… {n}"),
    "sync.pull": ("Recibiendo la cartera… {n}", "Receiving the portfolio… {n}"),
    "sync.unavailable": (
        "La sincronización aún no está disponible en esta versión",
        "Sync is not available in this version yet",
    ),
    "sync.failed": ("No se pudo sincronizar: {reason}", "Could not sync: {reason}"),
    "sync.offline": (
        "Sin conexión con el servidor. Todo queda guardado en el teléfono y se enviará en la"
        " próxima sincronización.",
        "The server cannot be reached. Everything stays saved on the phone and is sent at the"
        " next sync.",
    ),
    "sync.reauth": (
        "El servidor no acepta este teléfono: pida a su supervisor que lo registre de nuevo.",
        "The server refuses this phone: ask your supervisor to register it again.",
    ),
    "revoked.wiped": (
        "Este teléfono fue desactivado por la empresa. Se borraron sus datos; para volver a"
        " usarlo, regístrelo de nuevo.",
        "This phone was deactivated by the company. Its data was erased; register it again to"
        " use it.",
    ),
    "revoked.export": (
        "Este teléfono fue desactivado por la empresa y tiene {n} registros sin cerrar"
        " (pendientes, retenidos o en conflicto). Exporte los pendientes y entregue el archivo a"
        " su supervisor; luego se borrarán los datos.",
        "This phone was deactivated by the company and has {n} records not settled (pending,"
        " held or in conflict). Export the pending records and hand the file to your supervisor;"
        " the data is erased after that.",
    ),
    "revoked.export_button": ("Exportar pendientes", "Export pending records"),
    "revoked.exported": (
        "Se exportaron {n} registros a {file} y se borraron los datos del teléfono.",
        "{n} records were exported to {file} and the phone's data was erased.",
    ),
    "revoked.export_failed": (
        "No se pudo exportar ({reason}); no se borró nada.",
        "The export failed ({reason}); nothing was erased.",
    ),
    "sync.upgrade": (
        "Actualice la aplicación para poder sincronizar.",
        "Update the app to be able to sync.",
    ),
    "sync.busy": ("Ya hay una sincronización en curso.", "A sync is already running."),
    "sync.done": (
        "Enviados {sent}, recibidos {received}",
        "Sent {sent}, received {received}",
    ),
    "sync.counts": (
        "Pendientes {pending} · Retenidos {held} · En conflicto {conflict}",
        "Pending {pending} · Held {held} · Conflict {conflict}",
    ),
    "sync.nothing": ("Nada por enviar", "Nothing to send"),
    "auto.every": (
        "Se sincroniza sola cada {n} min y después de cada registro",
        "Syncs by itself every {n} min and after each record",
    ),
    "auto.running": ("Sincronizando en segundo plano…", "Syncing in the background…"),
    "auto.offline": (
        "Sin conexión: se reintenta sola, no hace falta tocar nada",
        "Offline: it retries by itself, nothing to tap",
    ),
    "auto.failed": (
        "La última sincronización automática falló; se reintenta sola",
        "The last automatic sync failed; it retries by itself",
    ),
    "state.pending": ("Pendiente", "Pending"),
    "state.acked": ("Recibido", "Received"),
    "state.held": ("Retenido", "Held"),
    "state.conflict": ("Conflicto", "Conflict"),
    "type.visit.recorded": ("Visita", "Visit"),
    "type.promise.made": ("Promesa", "Promise"),
    "type.payment.collected": ("Pago", "Payment"),
    "type.payment.voided": ("Anulación", "Void"),
    "type.route.planned": ("Ruta", "Route"),
    # week
    "week.title": ("Mi semana", "My week"),
    "week.range": ("Semana {label}: {start} a {end}", "Week {label}: {start} to {end}"),
    "week.visits": ("Visitas", "Visits"),
    "week.effective": ("Contactos efectivos", "Effective contacts"),
    "week.clients": ("Clientes visitados", "Clients visited"),
    "week.collected": ("Recaudado", "Collected"),
    "week.payments": ("Pagos", "Payments"),
    "week.promises": ("Promesas", "Promises"),
    "week.commission": ("Comisión estimada", "Estimated commission"),
    "week.commission_lines": ("Por pagos", "On payments"),
    "week.bonus": ("Bono semanal", "Weekly bonus"),
    "week.bonus_missing": (
        "Faltan {missing} contactos efectivos para el bono de {amount}",
        "{missing} more effective contacts for the bonus of {amount}",
    ),
    "week.rules": ("Reglas {version}", "Rules {version}"),
    "week.note": (
        "Con lo registrado en este teléfono; el servidor confirma las cifras oficiales.",
        "From what this phone recorded; the server confirms the official figures.",
    ),
    # outcomes (sync.protocol.VisitOutcome)
    "outcome.contacted": ("Contactado", "Contacted"),
    "outcome.third_party": ("Atendió un tercero", "Third party"),
    "outcome.not_found": ("No encontrado", "Not found"),
    "outcome.refused": ("Se negó a pagar", "Refused"),
    "outcome.promise": ("Promesa de pago", "Promise to pay"),
    "outcome.payment": ("Pagó", "Paid"),
    "outcome.dispute": ("Reclamo", "Dispute"),
    "outcome.wrong_address": ("Dirección errada", "Wrong address"),
    # methods (sync.protocol.PaymentMethod)
    "method.cash": ("Efectivo", "Cash"),
    "method.transfer": ("Transferencia", "Transfer"),
    "method.check": ("Cheque", "Check"),
    "method.deposit": ("Consignación", "Deposit"),
    # aging buckets (shared.aging defaults)
    "bucket.al_dia": ("Al día", "Current"),
    "bucket.1_30": ("1-30 días", "1-30 days"),
    "bucket.31_60": ("31-60 días", "31-60 days"),
    "bucket.61_90": ("61-90 días", "61-90 days"),
    "bucket.91_180": ("91-180 días", "91-180 days"),
    "bucket.181_360": ("181-360 días", "181-360 days"),
    "bucket.mas_360": ("Más de 360 días", "Over 360 days"),
    # issue 7: agreements, disputes (glosas), legal referral, cash in hand and its handover
    "client.agreement": ("Proponer acuerdo", "Propose agreement"),
    "client.dispute": ("Registrar glosa", "Record dispute"),
    "client.legal": (
        "En cobro jurídico: el caso lo lleva un abogado externo y el cliente sale de su ruta."
        " Si paga, registre el pago.",
        "With a law firm: an external lawyer handles this case and the client leaves your"
        " route. If they pay, record the payment.",
    ),
    "client.broken": ("Acuerdo incumplido", "Agreement broken"),
    "client.agreements": ("Acuerdos de pago", "Payment agreements"),
    "client.no_agreements": ("Sin acuerdos", "No agreements"),
    "client.disputes": ("Glosas y devoluciones abiertas", "Open disputes and returns"),
    "client.disputed": ("En glosa: {amount}", "In dispute: {amount}"),
    "agreement.line": ("{total} en {n} cuotas", "{total} in {n} installments"),
    "agreement.paid": ("Pagado {paid} de {total}", "Paid {paid} of {total}"),
    "agreement.installment": ("Cuota {n} · {date} · {amount}", "#{n} · {date} · {amount}"),
    "agreement.installment_paid": ("pagado {paid}", "paid {paid}"),
    "standing.proposed": ("Propuesto, por aprobar", "Proposed, to be approved"),
    "standing.on_track": ("Al día", "On track"),
    "standing.broken": ("Incumplido", "Broken"),
    "standing.completed": ("Cumplido", "Completed"),
    "installment.paid": ("Pagada", "Paid"),
    "installment.partial": ("Abono parcial", "Partly paid"),
    "installment.pending": ("Por vencer", "Not due yet"),
    "installment.late": ("Vencida", "Late"),
    "installment.missed": ("Incumplida", "Missed"),
    "local.pending": ("Por enviar", "Not sent yet"),
    "local.acked": ("Enviado", "Sent"),
    "local.held": ("Retenido para revisión", "Held for review"),
    "local.conflict": ("En conflicto", "Conflict"),
    "agreement.title": ("Proponer acuerdo", "Propose agreement"),
    "agreement.total": ("Valor del acuerdo", "Agreement amount"),
    "agreement.count": ("Número de cuotas", "Number of installments"),
    "agreement.first": ("Primera cuota (dd/mm/aaaa)", "First installment (dd/mm/yyyy)"),
    "agreement.frequency": ("Frecuencia", "Frequency"),
    "frequency.weekly": ("Semanal", "Weekly"),
    "frequency.biweekly": ("Quincenal", "Every two weeks"),
    "frequency.monthly": ("Mensual", "Monthly"),
    "agreement.generate": ("Calcular cuotas", "Build schedule"),
    "agreement.schedule": (
        "Cuotas (puede cambiar fechas y valores)",
        "Installments (dates and amounts can be changed)",
    ),
    "agreement.due": ("Fecha cuota {n}", "Date #{n}"),
    "agreement.amount": ("Valor cuota {n}", "Amount #{n}"),
    "agreement.sum": ("Suman {sum} de {total}", "Adds up to {sum} of {total}"),
    "agreement.notes": ("Notas (opcional)", "Notes (optional)"),
    "agreement.save": ("Enviar propuesta", "Send proposal"),
    "agreement.saved": (
        "Acuerdo propuesto: la oficina lo aprueba",
        "Agreement proposed: the office approves it",
    ),
    "dispute.title": ("Registrar glosa", "Record dispute"),
    "dispute.invoice": ("Factura", "Invoice"),
    "dispute.invoice_line": ("{number} · saldo {balance}", "{number} · balance {balance}"),
    "dispute.amount": ("Valor glosado", "Amount disputed"),
    "dispute.kind": ("Tipo", "Kind"),
    "kind.dispute": ("Glosa", "Dispute"),
    "kind.return": ("Devolución", "Return"),
    "dispute.reason": ("Motivo", "Reason"),
    "reason_code.billing": ("Facturación", "Billing"),
    "reason_code.tariffs": ("Tarifas", "Tariffs"),
    "reason_code.supports": ("Soportes", "Supporting documents"),
    "reason_code.authorization": ("Autorización", "Authorisation"),
    "reason_code.coverage": ("Cobertura", "Coverage"),
    "reason_code.pertinence": ("Pertinencia", "Pertinence"),
    "reason_code.return": ("Devolución de la factura", "Invoice returned"),
    "reason_code.other": ("Otro", "Other"),
    "dispute.notes": ("Notas (opcional)", "Notes (optional)"),
    "dispute.save": ("Guardar glosa", "Save dispute"),
    "dispute.saved": ("Glosa registrada", "Dispute recorded"),
    "dispute.line": (
        "{kind} · Factura {number} · {amount}",
        "{kind} · Invoice {number} · {amount}",
    ),
    "cash.title": ("Efectivo en mano", "Cash in hand"),
    "cash.total": ("Efectivo por entregar", "Cash to hand over"),
    "cash.count": ("{n} pagos en efectivo", "{n} cash payments"),
    "cash.count_one": ("1 pago en efectivo", "1 cash payment"),
    "cash.oldest": ("El más antiguo: {age} ({date})", "The oldest: {age} ({date})"),
    "cash.age_today": ("de hoy", "today"),
    "cash.age_one": ("hace 1 día", "1 day ago"),
    "cash.age_days": ("hace {n} días", "{n} days ago"),
    "cash.none": ("No tiene efectivo por entregar", "No cash to hand over"),
    "cash.open": ("Ver y entregar", "View and hand over"),
    "cash.handover": ("Entregar efectivo", "Hand over cash"),
    "cash.handovers": ("Entregas", "Handovers"),
    "cash.handover_line": ("{method} · {amount} · {date}", "{method} · {amount} · {date}"),
    "cash.reference": ("Referencia {reference}", "Reference {reference}"),
    "handover.title": ("Entregar efectivo", "Hand over cash"),
    "handover.method": ("Cómo entrega", "How"),
    "handover.bank_deposit": ("Consignación bancaria", "Bank deposit"),
    "handover.office": ("Entrega en oficina", "At the office"),
    "handover.reference": ("Referencia de la consignación", "Deposit reference"),
    "handover.date": ("Fecha de entrega (dd/mm/aaaa)", "Date (dd/mm/yyyy)"),
    "handover.payments": ("Pagos que entrega", "Payments handed over"),
    "handover.sum": ("Total a entregar: {amount}", "Total handed over: {amount}"),
    "handover.save": ("Registrar entrega", "Record handover"),
    "handover.saved": (
        "Entrega registrada: el supervisor la confirma",
        "Handover recorded: the supervisor confirms it",
    ),
    "decision.pending": ("Por enviar", "Not sent yet"),
    "decision.sent": ("Enviada, por confirmar", "Sent, to be confirmed"),
    "decision.held": ("Retenida para revisión: {reason}", "Held for review: {reason}"),
    "decision.conflict": ("En conflicto", "Conflict"),
    "decision.confirmed": ("Confirmada por el supervisor", "Confirmed by the supervisor"),
    "decision.rejected": (
        "Rechazada: {note}. Los pagos volvieron a efectivo en mano",
        "Rejected: {note}. The payments are back in cash in hand",
    ),
    "type.agreement.proposed": ("Acuerdo", "Agreement"),
    "type.dispute.opened": ("Glosa", "Dispute"),
    "type.cash.handed_over": ("Entrega de efectivo", "Cash handover"),
    "reason.legal": ("en cobro jurídico", "with a law firm"),
    "row.legal": ("Cobro jurídico", "Law firm"),
    "row.broken": ("Acuerdo incumplido", "Agreement broken"),
    # why the server held one of these events (its hold reason codes)
    "hold.client_unknown": (
        "el servidor no conoce el cliente",
        "the server does not know the client",
    ),
    "hold.client_closed": ("el cliente está cerrado", "the client is closed"),
    "hold.client_reassigned": (
        "el cliente pasó a otro gestor",
        "the client went to another collector",
    ),
    "hold.agreement_invalid": ("las cuotas no son válidas", "the installments are not valid"),
    "hold.invoice_unknown": (
        "la factura no existe en el servidor",
        "the server has no such invoice",
    ),
    "hold.dispute_exceeds_balance": (
        "supera el saldo abierto de la factura",
        "more than the invoice's open balance",
    ),
    "hold.handover_mismatch": ("los pagos no suman el valor", "the payments do not add up"),
    "hold.payment_unknown": ("un pago no llegó al servidor", "a payment did not reach the server"),
    "hold.payment_repeated": ("un pago aparece dos veces", "a payment is listed twice"),
    "hold.payment_not_cash": ("un pago no es en efectivo", "a payment is not cash"),
    "hold.payment_voided": ("un pago fue anulado", "a payment was voided"),
    "hold.payment_already_handed_over": (
        "un pago ya está en otra entrega",
        "a payment is in another handover",
    ),
    "hold.reference_missing": ("falta la referencia", "the reference is missing"),
    "error.agreement_over_balance": (
        "El acuerdo no puede superar el saldo ({balance})",
        "The agreement cannot exceed the balance ({balance})",
    ),
    "error.installments": ("Escriba de 1 a {n} cuotas", "Write 1 to {n} installments"),
    "error.installment_too_small": (
        "Demasiadas cuotas para ese valor",
        "Too many installments for that amount",
    ),
    "error.no_schedule": (
        "Toque «Calcular cuotas» para armar el plan",
        "Tap «Build schedule» to make the plan",
    ),
    "error.dates_in_order": (
        "Cada fecha debe ser posterior a la anterior",
        "Each date must come after the previous one",
    ),
    "error.schedule_sum": (
        "Las cuotas suman {sum}; deben sumar {total}",
        "The installments add up to {sum}; they must add up to {total}",
    ),
    "error.choose_invoice": ("Elija la factura", "Choose the invoice"),
    "error.dispute_over_balance": (
        "No puede superar lo que queda por glosar de la factura ({balance})",
        "Cannot exceed what is left to dispute on the invoice ({balance})",
    ),
    "error.bank_reference": (
        "Escriba la referencia de la consignación",
        "Write the deposit reference",
    ),
    "error.date_future": ("La fecha no puede ser futura", "The date cannot be in the future"),
    "error.no_payments": ("Elija al menos un pago", "Choose at least one payment"),
    "error.payment_handed_over": (
        "Ese pago ya se entregó; la corrección va por la oficina",
        "That payment was already handed over; the office corrects it",
    ),
    # validation
    "error.required": ("Obligatorio", "Required"),
    "error.amount": (
        "Escriba el valor así: 150.000 o 150.000,50",
        "Write the amount like 150,000 or 150,000.50",
    ),
    "error.amount_positive": ("El valor debe ser mayor que cero", "Must be greater than zero"),
    "error.amount_too_large": ("Valor demasiado grande", "Amount too large"),
    "error.date": ("Escriba la fecha así: 31/12/2026", "Write the date like 31/12/2026"),
    "error.date_past": ("La fecha no puede ser anterior a hoy", "The date cannot be before today"),
    "error.date_horizon": (
        "La fecha no puede pasar del {date}",
        "The date cannot be later than {date}",
    ),
    "error.too_long": ("Máximo {n} caracteres", "At most {n} characters"),
    "error.choose": ("Elija una opción", "Choose one"),
    "error.login": ("Usuario o contraseña incorrectos", "Wrong user or password"),
    "error.server": (
        "No se pudo conectar con el servidor: {reason}",
        "Could not reach the server: {reason}",
    ),
    "error.device_storage_full": (
        "El teléfono no tiene espacio: libere espacio y vuelva a intentar",
        "The phone is out of space: free some space and try again",
    ),
    "error.url": (
        "Dirección inválida (http://… o https://…)",
        "Invalid address (http://… or https://…)",
    ),
}


class Texts:
    """`t("row.balance", amount=...)` in the chosen language; unknown ids show themselves so a
    missing string is visible on screen rather than a crash in the field."""

    def __init__(self, lang: Lang = "es") -> None:
        self.lang: Lang = lang
        self._index = LANGS.index(lang)

    @property
    def locale(self) -> str:
        return LOCALES[self.lang]

    def __call__(self, key: str, **values: object) -> str:
        entry = CATALOG.get(key)
        if entry is None:
            return key
        return entry[self._index].format(**values) if values else entry[self._index]

    def money(self, amount: Decimal) -> str:
        return format_money(amount, locale=self.locale)

    def date(self, day: date) -> str:
        return format_date(day, self.locale)

    def hold(self, reason: str) -> str:
        """Why the server held an event, in words when the code is known, else the code."""
        key = f"hold.{reason}"
        return self(key) if key in CATALOG else reason

    def plain_amount(self, amount: Decimal) -> str:
        """An amount as the collector types it (`150.000`), for a field's starting value."""
        return self.money(amount).replace("$", "").strip()

    def stops(self, n: int) -> str:
        return self("route.one_stop") if n == 1 else self("route.stops", n=n)

    def clock(self, moment: datetime, tz: tzinfo | str | None = None) -> str:
        """The time of day on the business clock, 24-hour (`14:05`)."""
        return to_business_time(moment, tz).strftime("%H:%M")

    def km(self, metres: float) -> str:
        text = f"{metres / 1000:.1f}"
        return text.replace(".", ",") if self.lang == "es" else text

    def datetime(self, moment: datetime, tz: tzinfo | str | None = None) -> str:
        return format_datetime(moment, tz, self.locale)
