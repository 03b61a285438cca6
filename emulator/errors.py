"""Errors the emulator answers, and their default HTTP statuses and messages.

Gateway codes (``ERR-*``) and business codes come from ``myunisoft-api.md`` §11–§12. Messages
quoted by the documentation are reproduced; the others are the emulator's own wording (listed
in ``docs/myunisoft-assumptions.md``). Clients must never depend on the text.
"""

from __future__ import annotations

from dataclasses import dataclass

MESSAGES: dict[str, str] = {
    "ERR-SECRET-HEADER-NOT-SET": "The X-Third-Party-Secret header is not set.",
    "ERR-INVALID-SECRET": "The third-party secret is invalid.",
    "ERR-INVALID-AUTH-HEADER": "The Authorization header must be 'Bearer <token>'.",
    "ERR-INVALID-JWT": (
        "The JWT token is invalid and cannot be verified. Make sure you're in the right environment "
        "(production, staging, dev...)."
    ),
    "ERR-API-TOKEN-NOT-FOUND": (
        "Unable to found the token in the DB. The token has certainly expired or been revoked."
    ),
    "ERR-FIRM-TOKEN-NOT-FOUND": (
        "Unable to found the token in the DB. The token has certainly expired or been revoked."
    ),
    "ERR-THIRD-PARTY-DISCONNECTED": "The integration has been disconnected by MyUnisoft.",
    "ERR-FORBIDDEN-ROUTE": "This route is not allowed for this token.",
    "ERR-FORBIDDEN-ACCESS": "This token has not been activated yet.",
    "ERR-API-UNDER-MAINTENANCE": "The API is under maintenance. Please try again later.",
    "ERR-TOO-MANY-REQUEST": "Too many requests, please retry after the rate-limit reset.",
    "ERR-TOO-MANY-CONCURRENT-REQUEST": "Too many concurrent requests.",
    "ERR-TOO-MANY-CONCURRENT-REQUESTS": "Too many concurrent requests.",
    "ERR-HTTP": "Route not found.",
    "DROIT1": "Vous n'avez pas accès à cette société",
    "SOCIETE10": "Aucune société selectionnée",
    "SOCIETE12": "La société est inactive",
    "SOCIETE16": "Société introuvable",
    "SOCIETE17": "Plusieurs sociétés ont été trouvées",
    "GBL1": "Une erreur interne est survenue",
    "GBL10": "Paramètre manquant ou invalide",
    "DROIT5": "Authentification échouée",
    "IMPORT6": "Erreur lors de l'import",
    "IMPORT8": "Impossible d'ouvrir l'archive",
    "IMPORT9": "Impossible d'extraire l'archive",
    "IMPORT12": "Fichier de données introuvable dans l'archive",
    "IMPORT13": "Le total des débits est différent du total des crédits",
    "IMPORT14": "Le fichier est vide",
    "IMPORT18": "Le fichier est mal formaté",
    "IMPORT26": "La PJ {name} est introuvable",
    "IMPORT29": "Le fichier contient des écritures en dehors des exercices du dossier. Import annulé",
    "EXERCICE9": "Aucun exercice n'est défini : import impossible",
    "ECR9": "L'exercice est clôturé",
    "JOURNAL2": "Le journal {code} est clôturé",
    "JOURNAL3": "Le journal {code} n'existe pas",
    "JOURNAL13": "Impossible de saisir dans un journal d'à-nouveaux",
    "COMPTE2": "Le compte {number} n'existe pas",
    "COMPTE32": "Le compte {number} est clôturé",
}

STATUSES: dict[str, int] = {
    "ERR-TOO-MANY-REQUEST": 429,
    "ERR-HTTP": 404,
    "DROIT1": 403,
    "DROIT5": 401,
    "GBL1": 500,
}


@dataclass
class ApiError(Exception):
    """An error answer: ``{"error": {"code", "message", "details"}}`` with ``status``."""

    code: str
    status: int = 400
    message: str | None = None

    def text(self) -> str:
        return self.message if self.message is not None else MESSAGES.get(self.code, self.code)


def api_error(code: str, status: int | None = None, /, **values: object) -> ApiError:
    """An :class:`ApiError` with the catalogue's message, formatted with ``values``."""
    template = MESSAGES.get(code, code)
    message = template.format(**values) if values else template
    return ApiError(code, status if status is not None else STATUSES.get(code, 400), message)


class ConnectionDropped(Exception):
    """Raised by the app to make the server close the connection without an answer (fault injection).

    ``emulator.server`` closes the socket; ``emulator.testing.EmulatorTransport`` turns it into
    ``httpx.RemoteProtocolError`` for in-process tests.
    """
