import type {
  LockOverlayHolderWords,
  LockOverlayMessages,
} from '../../src/react/overlay/lock-overlay-messages';

const seit = ({ time, relative }: LockOverlayHolderWords): string =>
  time ? ` seit ${time}${relative ? ` (${relative})` : ''}` : '';

/** "Bob", "Bob und Carol", "Bob, Carol und Dan". */
const germanList = (names: readonly string[]): string =>
  names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} und ${names.at(-1)}`;

/**
 * Every word of the overlay in German, as an application would pass it as `messages` (with
 * `locale="de-DE"` for the times). Typed as the full set, so a new word cannot be forgotten.
 */
export const germanMessages: LockOverlayMessages = {
  lockedBy: (words) => `${words.name} bearbeitet diese Seite${seit(words)}`,
  lockedDescription: ({ name, canTakeOver, canAsk, inLine }) => {
    if (inLine) {
      return canTakeOver
        ? `Sie bekommen die Seite, wenn ${name} sie übergibt oder schließt. Sie können auch zurückgehen oder die Seite übernehmen.`
        : `Sie bekommen die Seite, wenn ${name} sie übergibt oder schließt. Sie können auch zurückgehen.`;
    }
    if (canAsk) {
      return canTakeOver
        ? 'Sie können um die Seite bitten, warten, zurückgehen oder die Seite übernehmen. Ungespeicherte Änderungen gehen dabei verloren.'
        : 'Sie können um die Seite bitten, warten, bis sie frei ist, oder zurückgehen.';
    }
    return canTakeOver
      ? 'Sie können warten, zurückgehen oder die Seite übernehmen. Ungespeicherte Änderungen gehen dabei verloren.'
      : 'Sie können warten, bis die Seite frei ist, oder zurückgehen. Die Seite lädt neu, sobald sie frei ist.';
  },
  lockedBySelf: (words) => `Sie bearbeiten diese Seite in einem anderen Tab${seit(words)}`,
  lockedBySelfDescription:
    'Bearbeiten Sie hier weiter, um die Sperre in diesen Tab zu holen; der andere Tab wird schreibgeschützt.',
  lost: (reason, { name }) => {
    switch (reason) {
      case 'taken-over':
        return `${name} hat diese Seite übernommen, Sie können sie nicht mehr bearbeiten.`;
      case 'expired':
        return `Ihre Sitzung ist abgelaufen, und ${name} bearbeitet diese Seite jetzt.`;
      case 'edited-meanwhile':
        return 'Ihre Sitzung ist abgelaufen, und jemand anderes hat die Seite inzwischen bearbeitet.';
      case 'unreachable':
        return 'Die Verbindung zum Server ist abgebrochen, die Seite ist nicht mehr für Sie reserviert.';
      case 'released':
        return 'Die Seite wurde freigegeben und ist nicht mehr für Sie reserviert.';
      case 'handed-over':
        return `Sie haben diese Seite an ${name} übergeben.`;
      case 'idle':
        return 'Diese Seite wurde freigegeben, weil Sie abwesend waren.';
    }
  },
  lostDescription: (reason) =>
    reason === 'unreachable'
      ? 'Ihre Änderungen bleiben sichtbar, schreibgeschützt. Versuchen Sie es erneut, oder kopieren Sie, was Sie brauchen, und laden Sie neu.'
      : 'Ihre Änderungen bleiben sichtbar, schreibgeschützt: Kopieren Sie, was Sie brauchen, und laden Sie dann neu.',
  openedInOtherTab: 'Sie haben diese Seite in einem anderen Tab geöffnet.',
  openedInOtherTabDescription:
    'Dort bearbeiten Sie sie jetzt. Ihr Text hier bleibt sichtbar, schreibgeschützt, zum Kopieren.',
  checking: 'Wir prüfen, wer gerade bearbeitet…',
  error: 'Der Sperr-Server ist nicht erreichbar.',
  errorDescription:
    'Bearbeiten ist angehalten, bis feststeht, dass niemand sonst die Seite bearbeitet.',
  notSignedIn: 'Sie sind nicht angemeldet, daher kann die Seite nicht für Sie reserviert werden.',
  notSignedInDescription:
    'Melden Sie sich erneut an (in einem anderen Tab, damit hier nichts verloren geht) und versuchen Sie es dann noch einmal.',
  notAllowed: 'Sie dürfen diese Seite nicht bearbeiten.',
  notAllowedDescription: 'Gehen Sie zurück oder bitten Sie eine Administratorin um Zugriff.',
  noLockRoute:
    'Bearbeiten ist nicht möglich: Diese Seite kann nicht prüfen, wer sie gerade bearbeitet.',
  noLockRouteDescription:
    'Die Bearbeitungssperre ist nicht richtig eingerichtet. Bitte wenden Sie sich an die Administration.',
  serverError: 'Der Sperr-Server hat ein Problem.',
  unexpectedAnswer: 'Der Sperr-Server hat eine unverständliche Antwort gesendet.',
  editingNow: 'Sie können diese Seite jetzt bearbeiten.',
  someone: 'Jemand',
  avatarAlt: ({ name }) => `Profilbild von ${name}`,
  goBack: 'Zurück',
  takeOver: 'Übernehmen',
  editHereInstead: 'Hier bearbeiten',
  reload: 'Neu laden',
  retry: 'Erneut versuchen',
  askToEdit: 'Um Bearbeitung bitten',
  askAgain: 'Erneut bitten',
  askNoteLabel: ({ name }) => `Nachricht an ${name} (optional)`,
  placeInLine: ({ place }) =>
    place === 1 ? 'Sie sind als Nächstes dran' : `${place}. in der Reihe`,
  askState: (state, { name }) => {
    switch (state) {
      case 'sending':
        return `${name} wird gefragt…`;
      case 'pending':
        return `Sie warten auf die Antwort von ${name}`;
      case 'declined':
        return `${name} bearbeitet noch`;
      case 'lapsed':
        return `${name} hat nicht geantwortet`;
    }
  },
  askFailed: ({ queueFull }) =>
    queueFull
      ? 'Es warten schon zu viele auf diese Seite. Versuchen Sie es später noch einmal.'
      : 'Ihre Bitte hat den Server nicht erreicht. Versuchen Sie es noch einmal.',
  leaveQueue: 'Nicht mehr warten',
  othersWaiting: ({ count }) =>
    count === 1
      ? '1 Person wartet darauf, diese Seite zu bearbeiten.'
      : `${count} Personen warten darauf, diese Seite zu bearbeiten.`,
  askedBy: ({ name }) => `${name} möchte diese Seite bearbeiten`,
  askedNote: ({ message }) => `„${message}“`,
  waitingInLine: ({ names }) => `${germanList(names)} ${names.length === 1 ? 'wartet' : 'warten'}`,
  handOver: 'Übergeben',
  keepEditing: 'Weiter bearbeiten',
  handOverFailed: 'Die Seite konnte nicht übergeben werden. Versuchen Sie es noch einmal.',
  idleTitle: 'Bearbeiten Sie noch?',
  idleCountdown: ({ seconds }) =>
    `Diese Seite wird in ${seconds} ${seconds === 1 ? 'Sekunde' : 'Sekunden'} freigegeben.`,
};
