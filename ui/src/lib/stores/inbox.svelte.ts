import { defaultView, type InboxView } from "$lib/components/inbox/model";

/**
 * The inbox's filters; kept while the user visits other screens, so coming back shows the
 * same part of the inbox. Reset when the workspace changes (accounts and labels differ).
 */
export const inboxView = $state<{ view: InboxView; workspaceId: string | null }>({ view: defaultView(), workspaceId: null });

export function resetInboxView(workspaceId: string | null = null): void {
  inboxView.view = defaultView();
  inboxView.workspaceId = workspaceId;
}
