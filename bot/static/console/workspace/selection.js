/* Which conversation is open in the workspace (its id), or null: what the queue, composer and notes ask. */

var openId = null;

export function currentId() {
  return openId;
}

export function setCurrentId(id) {
  openId = id;
}
